"""``Client``: one authgate server and one registered application. Every flow is one call
(``login_browser``, ``login_password``, ``login_token``, ``login_client_credentials``,
``login_device``); afterwards ``access_token()`` always answers a usable token, refreshing it before
it expires, and the adapters (``auth``, ``requests_auth()``) put it on requests.

Tokens live in a store shared by every thread and process of the user (see ``store.py``). A refresh
happens under the entry's lock, after re-reading the entry, so concurrent callers refresh once and
the rotated refresh token is saved before anyone else may use the entry.
"""

from __future__ import annotations

import base64
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import quote

import httpx

from authgate_client import browser_flow, device_flow
from authgate_client.errors import (
    ConfigurationError,
    InvalidGrant,
    LoginRequired,
    RefreshTokenRejected,
    ServerError,
)
from authgate_client.metadata import ServerMetadata, discover
from authgate_client.responses import asks_for_nonce, error_from, json_body, resource_asks_for_nonce
from authgate_client.store import CacheKey, TokenStore, make_store
from authgate_client.tokens import PERSONAL_ACCESS_TOKEN, TokenSet

CLIENT_CREDENTIALS = "client_credentials"
NO_CLIENT = "-"
MAX_AUTO_LEEWAY = 60.0


class Client:
    """An application of one authgate server.

    ``issuer`` is the server's base URL (``https://auth.example.com``). ``client_id`` and
    ``client_secret`` are the application's (no secret for a public client); ``scopes`` what to ask
    for (the client's default when empty). ``token`` uses a personal access token as is, kept in
    memory only. ``store`` is ``"file"`` (default: a 0600 file per server + client + user under
    ``cache_dir``), ``"keyring"``, ``"memory"`` or a ``TokenStore``. ``user`` names the cache entry;
    by default the last user who signed in with this client. Tokens are refreshed when less than
    ``refresh_leeway`` seconds remain (default: a tenth of their lifetime, at most a minute).
    ``dpop=True`` asks for tokens bound to a key of the client's own (RFC 9449, ``authgate-client[dpop]``): the
    key is kept with the tokens, every token and API request carries a proof, server nonces are followed.
    """

    def __init__(
        self,
        issuer: str,
        client_id: str | None = None,
        client_secret: str | None = None,
        scopes: Iterable[str] | str | None = None,
        *,
        token: str | None = None,
        user: str | None = None,
        store: "str | TokenStore | None" = "file",
        cache_dir: Path | str | None = None,
        refresh_leeway: float | None = None,
        timeout: float = 30.0,
        discover: bool = True,
        verify: bool | str = True,
        progress: bool | None = None,
        out: TextIO | None = None,
        dpop: bool = False,
    ):
        if not issuer or "://" not in issuer:
            raise ConfigurationError(f"issuer must be the server's URL, such as https://auth.example.com, not {issuer!r}")
        self.issuer = issuer.rstrip("/")
        self.client_id = client_id
        self.client_secret = client_secret
        self.scopes = scopes.split() if isinstance(scopes, str) else list(scopes or [])
        self.refresh_leeway = refresh_leeway
        self.progress = progress
        self.out = out
        self._explicit_user = user
        self._discover = discover
        self._metadata: ServerMetadata | None = None
        self._fixed = TokenSet.personal(token) if token else None
        self._store = make_store("memory" if token else store, cache_dir)
        self._http = httpx.Client(timeout=timeout, verify=verify, follow_redirects=False)
        self._api: httpx.Client | None = None
        self._api_lock = threading.Lock()
        self._timeout = timeout
        self._verify = verify
        self.dpop = dpop
        self._dpop_key = None

    # -- context -------------------------------------------------------------------------

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()
        if self._api is not None:
            self._api.close()

    def __repr__(self) -> str:
        return f"Client(issuer={self.issuer!r}, client_id={self.client_id!r})"

    # -- server ----------------------------------------------------------------------------

    @property
    def metadata(self) -> ServerMetadata:
        """The server's RFC 8414 metadata, read once; authgate's default paths where there is none."""
        if self._metadata is None:
            self._metadata = discover(self._http, self.issuer) if self._discover else ServerMetadata(self.issuer)
        return self._metadata

    @property
    def scope(self) -> str | None:
        return " ".join(self.scopes) or None

    # -- flows -----------------------------------------------------------------------------

    def login_browser(self, *, open_browser: bool = True, port: int = 0, redirect_uri: str | None = None,
                      timeout: float = 300.0, read_line: Callable[[], str] | None = None) -> TokenSet:
        """Authorization code + PKCE with a loopback redirect (RFC 8252 §7.3, RFC 7636): listens on
        127.0.0.1 (``port`` 0 = any free port; the redirect URI is ``http://127.0.0.1:PORT/callback``),
        opens the browser, checks ``state`` and exchanges the code. Where no browser opens, prints
        the URL and reads the pasted code or redirect URL. A ``redirect_uri`` that is not loopback
        (e.g. authgate's ``/oauth/code`` page) means: paste the code."""
        self._need_client_id("the authorization code flow")
        tokens = browser_flow.run(self, open_browser=open_browser, port=port, redirect_uri=redirect_uri,
                                  timeout=timeout, read_line=read_line)
        return self._remember(tokens)

    def login_password(self, username: str, password: str) -> TokenSet:
        """The resource owner password grant (RFC 6749 §4.3), sending ``client_id`` always."""
        self._need_client_id("the password grant")
        body = self.token_request({"grant_type": "password", "username": username, "password": password,
                                   **self._scope_param()})
        return self._remember(TokenSet.from_response(body, "password"), username)

    def login_token(self, token: str) -> TokenSet:
        """Keep a personal access token (``agp_...``) in the store, for later runs."""
        if not token or not token.strip():
            raise ConfigurationError("the personal access token is empty")
        return self._remember(TokenSet.personal(token.strip()), self._explicit_user or "personal-access-token")

    def login_client_credentials(self) -> TokenSet:
        """The client credentials grant (RFC 6749 §4.4): the application itself, no user. Renewed by
        asking again when it expires (there is no refresh token)."""
        self._need_client_id("the client credentials grant")
        if not self.client_secret:
            raise ConfigurationError("client_secret missing: the client credentials grant needs a confidential client's secret")
        return self._remember(self._client_credentials(), "client:" + str(self.client_id))

    def login_device(self, *, on_code: Callable[[device_flow.DeviceAuthorization], None] | None = None,
                     show_qr: bool = True, timeout: float | None = None) -> TokenSet:
        """The device authorization grant (RFC 8628): shows the user code and the verification URL
        (and a QR code with ``authgate-client[qr]``), then polls at the server's interval, slowing
        down when told to. ``on_code`` replaces the printed instructions."""
        self._need_client_id("the device flow")
        tokens = device_flow.run(self, on_code=on_code, show_qr=show_qr, timeout=timeout)
        return self._remember(tokens)

    # -- tokens ----------------------------------------------------------------------------

    @property
    def store(self) -> "TokenStore":
        return self._store

    @property
    def cache_key(self) -> CacheKey | None:
        """The store entry of the current user (None before anyone signed in with this client)."""
        return self._key()

    @property
    def tokens(self) -> TokenSet | None:
        """The saved tokens of the current user, as they are (not refreshed)."""
        if self._fixed is not None:
            return self._fixed
        key = self._key()
        return self._store.load(key) if key else None

    def access_token(self) -> str:
        """A usable access token: the saved one, or a refreshed one when it is about to expire."""
        if self._fixed is not None:
            return self._fixed.access_token
        key = self._require_key()
        tokens = self._store.load(key)
        if tokens is None:
            raise self._login_required()
        if not self._due(tokens):
            return tokens.access_token
        return self._renew_locked(key).access_token

    def refresh(self) -> TokenSet:
        """Refresh now, whatever the expiry (RFC 6749 §6)."""
        if self._fixed is not None:
            return self._fixed
        return self._renew_locked(self._require_key(), force=True)

    def token_after_401(self, rejected: str) -> str | None:
        """The token to retry with after the API refused ``rejected`` with 401: the one another thread
        or process already got, or a refreshed one; None when nothing better can be had."""
        if self._fixed is not None:
            return None
        key = self._key()
        if key is None:
            return None
        try:
            tokens = self._renew_locked(key, rejected=rejected)
        except LoginRequired:
            return None
        return tokens.access_token if tokens.access_token != rejected else None

    def logout(self, revoke: bool = True) -> bool:
        """Forget the saved tokens and, with ``revoke``, revoke them at the server (RFC 7009).
        A personal access token is only forgotten. Returns whether the server revoked anything."""
        key = self._key()
        if key is None:
            return False
        with self._store.lock(key):
            tokens = self._store.load(key)
            self._store.delete(key)
        if self._store.current_user(self.issuer, self.client_id or NO_CLIENT) == key.user:
            self._store.set_current_user(self.issuer, self.client_id or NO_CLIENT, None)
        if not revoke or tokens is None or tokens.grant == PERSONAL_ACCESS_TOKEN:
            return False
        revoked = False
        if tokens.refresh_token:
            revoked = self.revoke(tokens.refresh_token, "refresh_token")
        return self.revoke(tokens.access_token, "access_token") or revoked

    def revoke(self, token: str, token_type_hint: str | None = None) -> bool:
        """Revoke ``token`` (RFC 7009 §2.1). False when the server has no revocation endpoint."""
        if self.metadata.advertises("revocation_endpoint") is False:
            return False
        data = {"token": token, **({"token_type_hint": token_type_hint} if token_type_hint else {})}
        response = self._post(self.metadata.endpoint("revocation_endpoint"), data)
        if response.status_code in (404, 405) and not self.metadata.discovered:
            return False
        if response.status_code == 200:
            return True
        raise error_from(response, "revocation endpoint")

    def introspect(self, token: str, token_type_hint: str | None = None) -> dict[str, Any]:
        """Ask the server about ``token`` (RFC 7662 §2); needs a confidential client."""
        data = {"token": token, **({"token_type_hint": token_type_hint} if token_type_hint else {})}
        response = self._post(self.metadata.endpoint("introspection_endpoint"), data)
        body = json_body(response)
        if response.status_code == 200 and isinstance(body, dict) and "active" in body:
            return body
        raise error_from(response, "introspection endpoint")

    # -- HTTP ------------------------------------------------------------------------------

    def authorization_headers(self, method: str, url: str, token: str) -> dict[str, str]:
        """The headers that present ``token`` on ``method url``: ``Bearer`` (RFC 6750 §2.1), or ``DPoP`` with
        a proof by the key the token is bound to (RFC 9449 §7.1)."""
        tokens = self.tokens
        if tokens is None or tokens.access_token != token or not tokens.dpop_bound or not tokens.dpop_jwk:
            return {"Authorization": f"Bearer {token}"}
        return {"Authorization": f"DPoP {token}", "DPoP": self._bound_key(tokens).proof(method, url, token)}

    def nonce_asked(self, status: int, headers, token: str) -> bool:
        """Whether an API's answer to ``token`` asks for a DPoP nonce (RFC 9449 §9): the nonce is then kept
        for the next proofs, and the request is to be sent again once."""
        tokens = self.tokens
        if tokens is None or tokens.access_token != token or not tokens.dpop_jwk \
                or not resource_asks_for_nonce(status, headers):
            return False
        self._bound_key(tokens).heard(headers)
        return True

    @property
    def auth(self) -> "httpx.Auth":
        """An ``httpx.Auth`` (sync and async) that sends a fresh token and retries once on 401."""
        from authgate_client.httpx_auth import AuthgateAuth

        return AuthgateAuth(self)

    def requests_auth(self) -> Any:
        """A ``requests.auth.AuthBase`` for ``requests.get(url, auth=...)`` (needs requests)."""
        from authgate_client.requests_auth import AuthgateRequestsAuth

        return AuthgateRequestsAuth(self)

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """``method path`` on the server (a path such as ``/api/1.0/users/me``, or a full URL) with the
        token; refreshed before expiry and once more on a 401."""
        with self._api_lock:
            if self._api is None:
                self._api = httpx.Client(base_url=self.issuer, auth=self.auth, timeout=self._timeout, verify=self._verify)
        return self._api.request(method, path, **kwargs)

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", path, **kwargs)

    # -- the token endpoint ----------------------------------------------------------------

    def token_request(self, data: dict[str, str], grant: str | None = None, *, dpop_key=None) -> dict[str, Any]:
        """POST to the token endpoint with the client's authentication; the JSON answer, or a typed
        ``OAuthError``. With DPoP, a proof by ``dpop_key`` (by default the client's own key), retried once
        with the server's nonce when it asks for one (RFC 9449 §8)."""
        url = self.metadata.endpoint("token_endpoint")
        key = dpop_key or self._own_dpop_key()
        response = self._post(url, data, key)
        body = json_body(response)
        if key is not None and asks_for_nonce(response.status_code, body, response.headers):
            response = self._post(url, data, key)
            body = json_body(response)
        if response.status_code == 200 and isinstance(body, dict) and body.get("access_token"):
            return body
        raise error_from(response, "token endpoint")

    def _post(self, url: str, data: dict[str, str], dpop_key=None) -> httpx.Response:
        """A form POST authenticated as the client: HTTP Basic with a secret (RFC 6749 §2.3.1, id and
        secret form-encoded first), ``client_id`` in the body always (§3.2.1); a DPoP proof with a key."""
        form = dict(data)
        headers = {"Accept": "application/json"}
        if dpop_key is not None:
            headers["DPoP"] = dpop_key.proof("POST", url)
        if self.client_id:
            form["client_id"] = self.client_id
        if self.client_id and self.client_secret:
            pair = f"{quote(self.client_id, safe='')}:{quote(self.client_secret, safe='')}"
            headers["Authorization"] = "Basic " + base64.b64encode(pair.encode("utf-8")).decode("ascii")
        try:
            response = self._http.post(url, data=form, headers=headers)
        except httpx.HTTPError as error:
            raise ServerError(f"cannot reach {url}: {error}") from error
        if dpop_key is not None:
            dpop_key.heard(response.headers)
        return response

    def _own_dpop_key(self):
        """The key this client binds new tokens to (``dpop=True``), made on first use."""
        if not self.dpop:
            return None
        if self._dpop_key is None:
            from authgate_client.dpop import DpopKey

            self._dpop_key = DpopKey()
        return self._dpop_key

    def _bound_key(self, tokens: TokenSet):
        """The key ``tokens`` are bound to: this client's own, or the one kept with them (another process's)."""
        own = self._dpop_key
        if own is not None and own.to_jwk() == tokens.dpop_jwk:
            return own
        from authgate_client.dpop import DpopKey

        self._dpop_key = DpopKey(tokens.dpop_jwk)
        return self._dpop_key

    def _client_credentials(self) -> TokenSet:
        body = self.token_request({"grant_type": CLIENT_CREDENTIALS, **self._scope_param()})
        return TokenSet.from_response(body, CLIENT_CREDENTIALS)

    def _scope_param(self) -> dict[str, str]:
        return {"scope": self.scope} if self.scope else {}

    # -- the store -------------------------------------------------------------------------

    def _key(self) -> CacheKey | None:
        client = self.client_id or NO_CLIENT
        user = self._explicit_user or self._store.current_user(self.issuer, client)
        return CacheKey(self.issuer, client, user) if user else None

    def _require_key(self) -> CacheKey:
        key = self._key()
        if key is None:
            raise self._login_required()
        return key

    def _login_required(self) -> LoginRequired:
        return LoginRequired(
            f"not signed in to {self.issuer} with client {self.client_id or '(none)'}: call one of "
            "client.login_browser/login_password/login_device/login_token/login_client_credentials "
            "(or run `authgate-client login`)"
        )

    def _remember(self, tokens: TokenSet, user: str | None = None) -> TokenSet:
        if tokens.dpop_bound and tokens.dpop_jwk is None and self._dpop_key is not None:
            tokens.dpop_jwk = self._dpop_key.to_jwk()
        client = self.client_id or NO_CLIENT
        label = self._explicit_user or user or _user_label(tokens)
        key = CacheKey(self.issuer, client, label)
        with self._store.lock(key):
            self._store.save(key, tokens)
        self._store.set_current_user(self.issuer, client, label)
        return tokens

    def _due(self, tokens: TokenSet) -> bool:
        if tokens.expires_at is None:
            return False
        leeway = self.refresh_leeway
        if leeway is None:
            lifetime = tokens.lifetime or 0.0
            leeway = min(MAX_AUTO_LEEWAY, lifetime / 10)
        return tokens.expires_within(leeway)

    def _renew_locked(self, key: CacheKey, *, force: bool = False, rejected: str | None = None) -> TokenSet:
        """Under the entry's lock: re-read it; refresh only if it is still the stale one."""
        with self._store.lock(key):
            current = self._store.load(key)
            if current is None:
                raise self._login_required()
            if rejected is not None:
                if current.access_token != rejected:
                    return current
            elif not force and not self._due(current):
                return current
            fresh = self._renew(key, current)
            self._store.save(key, fresh)
            return fresh

    def _renew(self, key: CacheKey, current: TokenSet) -> TokenSet:
        if current.refresh_token:
            data = {"grant_type": "refresh_token", "refresh_token": current.refresh_token}
            bound = self._bound_key(current) if current.dpop_jwk else None
            try:
                body = self.token_request(data, dpop_key=bound)
            except InvalidGrant as error:
                self._store.delete(key)
                raise RefreshTokenRejected(error.error, error.error_description, error.status, body=error.body) from None
            return TokenSet.from_response(body, current.grant, previous=current)
        if current.grant == CLIENT_CREDENTIALS and self.client_secret:
            fresh = self._client_credentials()
            if fresh.dpop_bound and self._dpop_key is not None:
                fresh.dpop_jwk = self._dpop_key.to_jwk()
            return fresh
        if current.grant == PERSONAL_ACCESS_TOKEN:
            return current
        raise LoginRequired(
            f"the access token from {self.issuer} expired and there is no refresh token: sign in again"
            " (ask for the offline_access scope, or use a grant that issues refresh tokens)"
        )

    def _need_client_id(self, what: str) -> None:
        if not self.client_id:
            raise ConfigurationError(
                f"client_id missing: {what} needs the application's client ID, e.g. "
                "Client(issuer, client_id='...') or `authgate-client login --client-id ...`"
            )


def _user_label(tokens: TokenSet) -> str:
    claims = tokens.claims()
    sub = claims.get("sub")
    return f"sub:{sub}" if sub else "default"
