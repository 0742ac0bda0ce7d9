"""OpenID Connect RP-Initiated Logout 1.0: reading a request to the ``end_session_endpoint``.

``id_token_hint`` (§2) is an ID token authgate issued: its signature is checked against authgate's own published
keys and its ``iss`` against the issuer; its ``exp`` is not, since an application asks to sign out with the token
it was given, often long expired (§2 says the OP should accept those).
A hint names the user who signed out at the application and the client it was issued to; with a ``client_id`` as
well, the hint must have been issued to that client, else the request is refused (§2, §4). ``post_logout_redirect_uri``
is followed only when it is one of that client's ``post_logout_redirect_uris``, exactly (§3.1), with ``state``
added (§2), and never for a client an administrator disabled (its addresses are no longer to be trusted: the
plain signed-out page, not naming it); an unverifiable hint is an error in the request, after which nothing is followed (§4). ``ui_locales``
and ``logout_hint`` are accepted and ignored.

Whether to ask the user first is the page's to decide from this: without a valid hint, or when the hint's user is not
the one signed in, the user confirms (§2: the OP SHOULD ask whether to sign out)."""

from __future__ import annotations

from dataclasses import dataclass

from authlib.common.urls import add_params_to_uri
from joserfc import jws, jwt
from joserfc.errors import JoseError

PARAMETERS = ("id_token_hint", "client_id", "post_logout_redirect_uri", "state", "ui_locales", "logout_hint")


class EndSessionRefused(Exception):
    """A request to refuse with an error page (§4: no redirection then)."""


@dataclass(frozen=True)
class EndSession:
    params: dict[str, str]
    """The request's parameters, to carry through the confirmation page."""
    client_name: str | None
    hint_sub: str | None
    """The user the valid ``id_token_hint`` names (its ``sub``); None without a valid hint."""
    redirect_to: str | None
    """The registered ``post_logout_redirect_uri`` with ``state``; None: show the signed-out page."""
    unregistered: bool
    """A ``post_logout_redirect_uri`` was given that is not followed."""


def hint_claims(runtime, token: str) -> dict | None:
    """The claims of an ID token authgate signed, expired or not; None for anything else."""
    try:
        header = jws.extract_compact(token.encode()).headers()
        key = runtime.keys.public_key(str(header.get("kid", "")))
        if key is None or header.get("typ") not in (None, "JWT"):
            return None
        claims = jwt.decode(token, key, algorithms=[key.alg]).claims
    except (JoseError, ValueError, TypeError, KeyError):
        return None
    if claims.get("iss") != runtime.settings.issuer or not isinstance(claims.get("sub"), str):
        return None
    return claims


def _audiences(claims: dict) -> list[str]:
    aud = claims.get("aud")
    return [aud] if isinstance(aud, str) else [a for a in aud if isinstance(a, str)] if isinstance(aud, list) else []


def read_end_session(runtime, s, pairs: list[tuple[str, str]]) -> EndSession:
    params = {name: value for name, value in reversed(pairs) if name in PARAMETERS and value}
    hint = params.get("id_token_hint")
    claims = hint_claims(runtime, hint) if hint else None
    client_id = params.get("client_id")
    if claims is not None:
        audiences = _audiences(claims)
        if client_id and client_id not in audiences:
            raise EndSessionRefused("The id_token_hint was not issued to the client named by client_id.")
        client_id = client_id or claims.get("azp") or (audiences[0] if len(audiences) == 1 else None)
    client = runtime.clients.get(s, client_id) if client_id else None
    if client_id and client is None:
        raise EndSessionRefused("No client application has that client_id.")
    disabled = client is not None and client.disabled_at is not None
    client = None if disabled else client
    uri = None if disabled else params.get("post_logout_redirect_uri")
    followed = uri is not None and client is not None and (hint is None or claims is not None) \
        and uri in (client.post_logout_redirect_uris or [])
    redirect_to = None
    if followed:
        redirect_to = add_params_to_uri(uri, [("state", params["state"])]) if "state" in params else uri
    return EndSession(params, client.name if client else None, claims["sub"] if claims else None, redirect_to,
                      unregistered=uri is not None and not followed)
