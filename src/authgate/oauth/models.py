"""Adapters that give storage rows the interfaces Authlib's grants expect (ClientMixin and friends)."""

from __future__ import annotations

from urllib.parse import urlsplit

from authlib.oauth2.rfc6749 import ClientMixin, TokenMixin
from authlib.oidc.core import AuthorizationCodeMixin

from authgate.services.accounts.sign_in.assurance import acr_of
from authgate.services.applications.clients import ClientService, ClientView, port_is_valid
from authgate.services.applications.grant_types import GRANTS
from authgate.services.applications.resources import default_scopes, undefined_scopes
from authgate.services.credentials import scopes as scope_rules
from authgate.services.credentials.token_lookup import Presented, TokenLookup
from authgate.storage.models import AuthorizationCode, RefreshToken, User

SECRET_METHODS = ("client_secret_basic", "client_secret_post")
KEY_METHOD = "private_key_jwt"


LOOPBACK_IPS = ("127.0.0.1", "::1")


def _without_port(uri: str) -> tuple | None:
    """The parts of an http loopback-IP URI other than its port; None for anything else or a bad port."""
    parts = urlsplit(uri)
    try:
        parts.port
    except ValueError:
        return None
    if parts.scheme != "http" or parts.hostname not in LOOPBACK_IPS:
        return None
    return parts.hostname, parts.path, parts.query, parts.fragment, parts.username, parts.password


def same_but_loopback_port(requested: str, registered: str) -> bool:
    """Both http on a loopback IP literal (not ``localhost``: RFC 8252 §8.3), equal but for the port."""
    mine = _without_port(requested)
    return mine is not None and mine == _without_port(registered)


class OAuthClient(ClientMixin):
    """A client as one request sees it (made per request by ``query_client``)."""

    resources: tuple = ()
    """The resources this request names (RFC 8707): the scopes they define are the ones it may ask for."""

    def __init__(self, row: ClientView, clients: ClientService):
        self.row = row
        self._clients = clients

    def get_client_id(self) -> str:
        return self.row.client_id

    def get_default_redirect_uri(self) -> str | None:
        """With exactly one registered URI it may be omitted (RFC 6749 §3.1.2.3)."""
        only = self.row.redirect_uris[0] if len(self.row.redirect_uris) == 1 else None
        return only if only and port_is_valid(only) else None

    def get_allowed_scope(self, scope: str | None) -> str | None:
        requested = scope_rules.parse(scope)
        if self.resources:
            chosen = requested or default_scopes(self.resources, self.row.scopes)
            return None if undefined_scopes(self.resources, chosen) or (
                self.row.scopes and any(s not in self.row.scopes for s in chosen)) else scope_rules.join(chosen)
        if not requested:
            return scope_rules.join(scope_rules.default_for_client(self.row.scopes))
        if not scope_rules.allowed_for_client(requested, self.row.scopes):
            return None
        return scope_rules.join(requested)

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        """Exact string comparison with a registered URI (RFC 9700 §4.1.3), except that a public
        client's registered loopback IP URI (``http://127.0.0.1/...``, ``http://[::1]/...``: a native
        app's) takes any port (RFC 8252 §7.3): the app listens on whichever port is free. A confidential
        client is a web server with a fixed address, so it matches exactly. A port outside 1-65535 never
        matches, even one registered before registration refused it."""
        if not port_is_valid(redirect_uri):
            return False
        if redirect_uri in self.row.redirect_uris:
            return True
        return self.row.public and any(same_but_loopback_port(redirect_uri, uri) for uri in self.row.redirect_uris)

    def check_client_secret(self, client_secret: str) -> bool:
        return not self.row.public and self._clients.check_secret(self.row, client_secret)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        if self.row.public:
            return method == "none"
        if self.row.auth_method == KEY_METHOD:
            return method == KEY_METHOD
        return method in SECRET_METHODS

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code" and "authorization_code" in self.row.grants

    def check_grant_type(self, grant_type: str) -> bool:
        return GRANTS.name_of(grant_type) in self.row.grants


class OAuthCode(AuthorizationCodeMixin):
    def __init__(self, row: AuthorizationCode, user: User):
        self.row = row
        self.user = user
        self.code_challenge = row.code_challenge
        self.code_challenge_method = row.code_challenge_method

    def get_redirect_uri(self) -> str:
        return self.row.redirect_uri

    def get_scope(self) -> str:
        return self.row.scope

    def get_nonce(self) -> str | None:
        return self.row.nonce

    def get_auth_time(self) -> int:
        return int(self.row.auth_time.timestamp())

    def get_amr(self) -> list[str] | None:
        """How the user signed in (RFC 8176), as the session that approved the code recorded it."""
        return self.row.amr.split() if self.row.amr else None

    def get_acr(self) -> str | None:
        """The class of that sign-in (``services/accounts/sign_in/assurance.py``; OpenID Connect Core §2)."""
        return acr_of(self.row.amr)


class OAuthRefreshToken(TokenMixin):
    def __init__(self, row: RefreshToken):
        self.row = row

    def check_client(self, client: OAuthClient) -> bool:
        return self.row.client_id == client.row.id

    def get_scope(self) -> str:
        return self.row.scope


class OAuthPresentedToken(TokenMixin):
    """A token sent to the revocation or introspection endpoint, found by ``TokenLookup``."""

    def __init__(self, presented: Presented, lookup: TokenLookup, db):
        self.presented = presented
        self._lookup = lookup
        self._db = db

    @classmethod
    def find(cls, runtime, db, token: str, memory_first: bool = False) -> "OAuthPresentedToken | None":
        presented = runtime.token_lookup.find(db, token, memory_first)
        return cls(presented, runtime.token_lookup, db) if presented else None

    def check_client(self, client: OAuthClient) -> bool:
        return self._lookup.may_manage(self.presented, client.row)

    def is_expired(self) -> bool:
        return False

    def is_revoked(self) -> bool:
        """Expired, revoked, rotated, or its user gone: anything that makes it not work."""
        return not self._lookup.is_active(self._db, self.presented)

    def describe(self) -> dict:
        return self._lookup.describe(self._db, self.presented)
