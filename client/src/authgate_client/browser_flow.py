"""The authorization code flow with PKCE (RFC 6749 §4.1, RFC 7636) for a native app: a loopback
redirect (RFC 8252 §7.3) and the system browser, or — where no browser opens — the URL printed and
the code (or the whole redirect URL) pasted back, as the guide does it."""

from __future__ import annotations

import queue
import secrets
import sys
import threading
import webbrowser
from collections.abc import Callable
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

from authgate_client.errors import (
    AuthorizationTimeout,
    IssuerMismatch,
    LoginRequired,
    OAuthError,
    StateMismatch,
    oauth_error,
)
from authgate_client.loopback import LoopbackListener
from authgate_client.pkce import new_verifier, s256_challenge
from authgate_client.progress import Progress
from authgate_client.tokens import TokenSet

if TYPE_CHECKING:
    from authgate_client.client import Client

LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1", "[::1]")
GRANT = "authorization_code"


def is_loopback(uri: str) -> bool:
    parts = urlsplit(uri)
    return parts.scheme == "http" and parts.hostname in LOOPBACK_HOSTS


def listens_for(redirect_uri: str | None, issuer: str) -> bool:
    """Whether the client itself receives the redirect: a loopback URI that is not the server's own
    (such as authgate's ``/oauth/code`` page on a local server)."""
    if redirect_uri is None:
        return True
    ours, server = urlsplit(redirect_uri), urlsplit(issuer)
    return is_loopback(redirect_uri) and (ours.hostname, ours.port) != (server.hostname, server.port)


def authorization_url(client: "Client", redirect_uri: str, state: str, challenge: str) -> str:
    params = {"response_type": "code", "client_id": client.client_id or "", "redirect_uri": redirect_uri}
    if client.scope:
        params["scope"] = client.scope
    params.update(state=state, code_challenge=challenge, code_challenge_method="S256")
    endpoint = client.metadata.endpoint("authorization_endpoint")
    return endpoint + ("&" if "?" in endpoint else "?") + urlencode(params)


def _listener_for(redirect_uri: str | None, port: int, state: str) -> LoopbackListener:
    if redirect_uri is None:
        return LoopbackListener(state, port=port).start()
    parts = urlsplit(redirect_uri)
    listener = LoopbackListener(state, port=parts.port or port, path=parts.path or "/").start()
    if parts.port is None:
        host = parts.hostname if ":" not in (parts.hostname or "") else f"[{parts.hostname}]"
        listener.redirect_uri = urlunsplit((parts.scheme, f"{host}:{listener.port}", parts.path or "/", "", ""))
    else:
        listener.redirect_uri = redirect_uri
    return listener


def _open_browser(url: str) -> bool:
    try:
        return bool(webbrowser.open(url, new=1))
    except Exception:  # any failure of the platform's browser launcher means: no browser
        return False


def parse_pasted(text: str) -> tuple[dict[str, str], bool]:
    """(parameters, whether they came from a whole redirect URL or query) of what the user pasted."""
    text = text.strip()
    if not text:
        raise LoginRequired("no authorization code was pasted: sign in again")
    if "code=" in text or "error=" in text:
        query = urlsplit(text).query if "?" in text else text
        return {k: v[0] for k, v in parse_qs(query, keep_blank_values=True).items()}, True
    return {"code": text}, False


def run(client: "Client", *, open_browser: bool, port: int, redirect_uri: str | None, timeout: float,
        read_line: Callable[[], str] | None) -> TokenSet:
    verifier = new_verifier()
    state = secrets.token_urlsafe(24)
    out = client.out or sys.stderr
    read_line = read_line or sys.stdin.readline
    listener = _listener_for(redirect_uri, port, state) if listens_for(redirect_uri, client.issuer) else None
    redirect = listener.redirect_uri if listener else str(redirect_uri)
    url = authorization_url(client, redirect, state, s256_challenge(verifier))
    try:
        if listener is not None and open_browser and _open_browser(url):
            print(f"Your browser was opened to sign in; if it was not, open:\n  {url}", file=out, flush=True)
            with Progress("Waiting for you to sign in and authorize in the browser", out, client.progress is not False):
                params, whole = _next(listener.results, timeout)
        else:
            print(f"Open this URL in a browser, sign in and authorize the application:\n\n  {url}\n", file=out)
            print("Then paste the code shown, or the whole address the browser was sent to: ", end="", file=out, flush=True)
            if listener is None:
                params, whole = parse_pasted(read_line())
            else:
                _read_in_background(read_line, listener.results)
                params, whole = _next(listener.results, timeout)
    finally:
        if listener is not None:
            listener.close()
    code = _check(client, params, whole, state)
    body = client.token_request({"grant_type": GRANT, "code": code, "redirect_uri": redirect, "code_verifier": verifier})
    return TokenSet.from_response(body, GRANT)


def _read_in_background(read_line: Callable[[], str], results: "queue.Queue[tuple[str, dict[str, str]]]") -> None:
    def read() -> None:
        try:
            results.put(("paste", {"_pasted": read_line()}))
        except (OSError, ValueError, EOFError):
            pass

    threading.Thread(target=read, name="authgate-paste", daemon=True).start()


def _next(results: "queue.Queue[tuple[str, dict[str, str]]]", timeout: float) -> tuple[dict[str, str], bool]:
    try:
        source, params = results.get(timeout=timeout)
    except queue.Empty:
        raise AuthorizationTimeout(f"no authorization response within {timeout:.0f} seconds: sign in again") from None
    if source == "paste":
        return parse_pasted(params["_pasted"])
    return params, True


def _check(client: "Client", params: dict[str, str], whole: bool, state: str) -> str:
    """RFC 6749 §4.1.2 and §10.12 (state), RFC 9207 §2.4 (iss); returns the code."""
    if whole and params.get("state") != state:
        raise StateMismatch("invalid_state", "the state of the authorization response is not the one sent")
    if whole and ("iss" in params or client.metadata.issuer_in_authorization_response):
        if params.get("iss") != client.metadata.issuer:
            raise IssuerMismatch("invalid_issuer", f"the response names the issuer {params.get('iss')!r}")
    if "error" in params:
        raise oauth_error(params["error"], params.get("error_description"))
    code = params.get("code")
    if not code:
        raise OAuthError("invalid_request", "the authorization response has no code")
    return code
