"""Request objects (RFC 9101, JAR): an authorization request sent as a JWT signed by the client, in the
``request`` parameter of ``/oauth/authorize`` (§5.1) or of a push to ``/oauth/par`` (RFC 9126 §3).

The object is verified with the client's own keys (``jwks`` or ``jwks_uri``, ``client_keys.keys_of``) and an
algorithm of ``client_keys.ALGORITHMS``: never ``none`` nor an HMAC (a client's secret is kept only as a keyed
hash, and an unsigned object proves nothing). Its claims: ``iss`` is the client, ``aud`` names the issuer,
``client_id`` is the one the request names (§5), ``exp`` is there and at most ``MAX_LIFETIME`` ahead, ``nbf`` and
``iat`` are not in the future and ``nbf`` at most ``MAX_AGE`` old, a ``jti`` works once (kept on the rate-limit
counters until ``exp``, as client assertions' are), ``typ`` when present is ``oauth-authz-req+jwt`` or ``JWT``
(§10.8: another JWT of the client's cannot pass for a request). Encrypted objects and ``request_uri`` by
reference are not supported; a ``request_uri`` comes from PAR only.

Only the object's parameters count (§6.3): the rest of the query is ignored, ``client_id`` aside. At
``/oauth/authorize`` the verified request is kept as a pushed one is, marked ``front_channel``
(``PushedRequestService.keep_front_channel``), so the sign-in and consent round trips carry a ``request_uri`` and
the object is verified once. A refusal is ``invalid_request_object``, sent to the redirect URI the request names
(the object's, else the query's) when it is registered for the client, else shown on a page (§6.3, RFC 6749
§4.1.2.1); at ``/oauth/par`` it is OAuth JSON.
"""

from __future__ import annotations

import json
import re
import time

from authlib.oauth2.rfc6749 import InvalidRequestError
from authlib.oauth2.rfc9101.errors import InvalidRequestObjectError
from joserfc import jws, jwt
from joserfc.errors import JoseError

from authgate.oauth.context import bound
from authgate.oauth.requests import OAuthRequest
from authgate.services.applications import client_keys
from authgate.services.errors import Invalid
from authgate.services.operations.safe_fetch import FetchRefused

ALGORITHMS = client_keys.ALGORITHMS
MAX_LIFETIME = 3600
"""How far ahead ``exp`` may be: an hour, as for client assertions."""
MAX_AGE = 3600
"""How old ``nbf`` may be."""
LEEWAY = 30
MAX_BYTES = 16384
JWT_CLAIMS = ("iss", "aud", "exp", "nbf", "iat", "jti")
"""Claims of the JWT itself, no part of the authorization request."""
TYPES = (None, "JWT", "oauth-authz-req+jwt")


class Refusal(Exception):
    """Why a request object is refused; the endpoint turns it into its own ``invalid_request_object``."""

    def __str__(self) -> str:
        """In the characters an ``error_description`` may hold (RFC 6749 §5.2): it may quote the request."""
        return re.sub(r'[^\x20\x21\x23-\x5b\x5d-\x7e]', "?", super().__str__())


def _unverified(request_object: str) -> tuple[dict, dict]:
    """The header and claims, before any check (to route an error, and to pick the key)."""
    if request_object.count(".") == 4:
        raise Refusal("Encrypted request objects are not supported: send a signed one (JWS).")
    try:
        compact = jws.extract_compact(request_object.encode("ascii"))
        claims = json.loads(compact.payload)
    except (JoseError, ValueError, UnicodeError):
        raise Refusal("The request object is not a signed JWT.") from None
    if not isinstance(claims, dict):
        raise Refusal("The request object's claims are not a JSON object.")
    return dict(compact.protected), claims


def _unverified_claims(request_object: str) -> dict:
    try:
        return _unverified(request_object)[1]
    except Refusal:
        return {}


def _as_pairs(claims: dict) -> list[tuple[str, str]]:
    """The authorization request's parameters: strings as they are, whole numbers (``max_age``) in decimal,
    an array as the parameter repeated (``resource``), a JSON object as its JSON."""
    pairs = []
    for name, value in claims.items():
        if name in JWT_CLAIMS:
            continue
        values = value if isinstance(value, list) else [value]
        for one in values:
            if isinstance(one, bool) or one is None:
                raise Refusal(f"The request object's '{name}' must be a string.")
            if isinstance(one, int):
                one = str(one)
            elif isinstance(one, dict):
                one = json.dumps(one, separators=(",", ":"))
            if not isinstance(one, str):
                raise Refusal(f"The request object's '{name}' must be a string.")
            if "\x00" in name + one:
                raise Refusal("The request object has characters that cannot be handled (NUL).")
            pairs.append((name, one))
    return pairs


class RequestObjects:
    """The verifier: ``parameters`` of a request object, or ``Refusal``."""

    def __init__(self, issuer: str, memory, fetcher):
        self.issuer = issuer
        self.memory = memory
        self.fetcher = fetcher

    def parameters(self, client, request_object: str, client_id: str | None) -> list[tuple[str, str]]:
        """The verified request's parameters, ``client_id`` among them; ``client_id`` is the one the request
        names outside the object (None: the authenticated client at PAR)."""
        if len(request_object) > MAX_BYTES:
            raise Refusal(f"The request object is larger than {MAX_BYTES} bytes.")
        header, _ = _unverified(request_object)
        if header.get("alg") not in ALGORITHMS:
            raise Refusal(f"The request object must be signed with one of {', '.join(ALGORITHMS)}; "
                          f"'{header.get('alg')}' is not accepted (no 'none', no HMAC).")
        if header.get("typ") not in TYPES:
            raise Refusal("The request object's typ must be oauth-authz-req+jwt (RFC 9101 section 10.8).")
        kid = header.get("kid")
        try:
            keys = client_keys.keys_of(client.row, self.fetcher, kid if isinstance(kid, str) else None)
        except (FetchRefused, Invalid) as error:
            raise Refusal(f"The client's keys to verify the request object cannot be read: {error}") from None
        try:
            claims = jwt.decode(request_object, keys, algorithms=list(ALGORITHMS)).claims
        except (JoseError, ValueError) as error:
            raise Refusal("The request object's signature is not by one of the client's keys "
                          f"({type(error).__name__}).") from None
        self._check(claims, client.get_client_id(), client_id)
        pairs = _as_pairs(claims)
        if "jti" in claims and not self.memory.first_use(
                client.get_client_id(), claims["jti"], int(claims["exp"] - time.time()) + LEEWAY):
            raise Refusal("The request object was used before: its jti is spent.")
        return pairs

    def _check(self, claims: dict, own_id: str, named_id: str | None) -> None:
        if claims.get("iss") != own_id:
            raise Refusal("The request object's iss must be the client's id (RFC 9101 section 4).")
        audience = claims.get("aud")
        if self.issuer not in (audience if isinstance(audience, list) else [audience]):
            raise Refusal("The request object's aud must name this issuer (RFC 9101 section 4).")
        if claims.get("client_id") != own_id or named_id not in (None, own_id):
            raise Refusal("The request object's client_id must be the client_id of the request (RFC 9101 section 5).")
        if "request" in claims or "request_uri" in claims:
            raise Refusal("A request object must not contain 'request' or 'request_uri' (RFC 9101 section 4).")
        now = time.time()
        exp = claims.get("exp")
        if not isinstance(exp, (int, float)) or isinstance(exp, bool):
            raise Refusal("The request object must have an exp.")
        if exp <= now - LEEWAY:
            raise Refusal("The request object has expired.")
        if exp > now + MAX_LIFETIME + LEEWAY:
            raise Refusal(f"The request object must expire within {MAX_LIFETIME} seconds.")
        for name in ("nbf", "iat"):
            value = claims.get(name)
            if value is None:
                continue
            if not isinstance(value, (int, float)) or isinstance(value, bool) or value > now + LEEWAY:
                raise Refusal(f"The request object's {name} is in the future.")
            if name == "nbf" and value < now - MAX_AGE - LEEWAY:
                raise Refusal(f"The request object's nbf is more than {MAX_AGE} seconds old.")
        jti = claims.get("jti")
        if jti is not None and (not isinstance(jti, str) or not jti or len(jti) > 256):
            raise Refusal("The request object's jti must be a string of at most 256 characters.")


def _error_target(client, unverified: dict, query: dict) -> tuple[str | None, str | None]:
    """The redirect URI and ``state`` to send a refusal with: the object's, else the query's; the redirect URI
    only when it is registered for the client (or, named nowhere, the client's only one)."""
    source = unverified if "redirect_uri" in unverified else query
    named = source.get("redirect_uri")
    if named is None:
        target = client.get_default_redirect_uri()
    else:
        target = named if isinstance(named, str) and client.check_redirect_uri(named) else None
    state = unverified.get("state") if "state" in unverified else query.get("state")
    return target, state if isinstance(state, str) and "\x00" not in state else None


def at_authorization(server, request: OAuthRequest) -> tuple[object, list[tuple[str, str]]] | None:
    """The client and the verified parameters of the browser's request object; None when the request has no
    ``request``. Raises ``OAuth2Error``: ``invalid_request_object``, redirected as ``_error_target`` allows."""
    data = request.payload.data
    if "request" not in data:
        return None
    if request.payload.repeated():
        raise InvalidRequestError("Parameter repeated.")
    if "request_uri" in data:
        raise InvalidRequestError("Send 'request' or 'request_uri', not both (RFC 9101 section 5).")
    with bound(request.db):
        client = server.query_client(data.get("client_id") or "")
    if client is None:
        raise InvalidRequestError("Send the client's 'client_id' with 'request' (RFC 9101 section 5): an unknown "
                                  "or missing client.")
    try:
        return client, server.request_objects.parameters(client, data["request"], client.get_client_id())
    except Refusal as refusal:
        redirect_uri, state = _error_target(client, _unverified_claims(data["request"]), data)
        raise InvalidRequestObjectError(description=str(refusal), redirect_uri=redirect_uri, state=state) from None


def at_push(server, client, form: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The parameters of a push (RFC 9126 §3): the request object's alone when the push has one; a client that
    must sign its requests (§10.5) is refused without one."""
    objects = [value for name, value in form if name == "request"]
    if not objects:
        if must_sign(server, client):
            raise InvalidRequestError("This client must send its authorization requests as signed request objects "
                                      "(require_signed_request_object, RFC 9101 section 10.5).")
        return form
    if len(objects) > 1:
        raise InvalidRequestError("Parameter repeated: request.")
    try:
        return server.request_objects.parameters(client, objects[0], None)
    except Refusal as refusal:
        raise InvalidRequestObjectError(description=str(refusal)) from None


def must_sign(server, client) -> bool:
    """Must this client's authorization requests be signed request objects (RFC 9101 §10.5)?"""
    return server.runtime.settings.require_request_object or client.row.require_request_object
