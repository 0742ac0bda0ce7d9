"""Dynamic client registration (RFC 7591) and its management (RFC 7592), as the protocol has it: the JSON
metadata read into a ``Registration``, the answers and the error codes. The rules — mode, policy, tokens,
limits — are ``services/applications/registration.py``'s; the client rules ``ClientService``'s.

Unknown metadata fields are ignored (RFC 7591 §2), and so are fields RFC 7592 §2.2 says a client must not
send back. Redirect URIs take the forms RFC 8252 gives native and web apps: https, http on a loopback host
(§7.3), or a private-use scheme with a dot in it (§7.1); anything else is ``invalid_redirect_uri``. No
software statement is trusted here, so one is refused (§3.2.2). Authlib has registration endpoints, but its
claims check answers a bad redirect URI as ``invalid_client_metadata`` and an empty body as
``invalid_request``; these few rules are clearer written out.
"""

from __future__ import annotations

import json
import re
from urllib.parse import urlsplit

from authgate.oauth.endpoints.metadata import PATHS
from authgate.services.applications import client_keys
from authgate.services.applications.grant_types import GRANTS
from authgate.services.applications.logout_uris import logout_view
from authgate.services.applications.registration import OFF, Registration, Unauthenticated
from authgate.services.credentials import scopes as scope_rules
from authgate.services.errors import Invalid
from authgate.services.operations.ratelimit import TooManyAttempts
from authgate.storage.models import Client

Answer = tuple[int, dict | None, list[tuple[str, str]]]

AUTH_METHODS = ("client_secret_basic", "client_secret_post", "none", client_keys.PRIVATE_KEY_JWT)
LOOPBACK_HOSTS = ("127.0.0.1", "::1", "localhost")
URL_FIELDS = ("client_uri", "logo_uri", "tos_uri", "policy_uri")
TEXT_FIELDS = ("software_id", "software_version")
REQUIREMENT_FIELDS = {"require_pushed_authorization_requests": "require_par", "dpop_bound_access_tokens": "require_dpop",
                      "require_signed_request_object": "require_request_object"}
"""RFC 9126 §6, RFC 9449 §5.2 and RFC 9101 §10.5 client metadata -> the client's requirement."""
MAX_TEXT = 2000
MAX_CONTACTS = 20
COMPACT_JWS = re.compile(r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$")


class RegistrationError(Exception):
    """An RFC 7591 §3.2.2 error response (or a 401 / 404 / 429 of the endpoint)."""

    def __init__(self, status: int, error: str, description: str, headers: list[tuple[str, str]] = ()):
        super().__init__(description)
        self.status, self.error, self.description, self.headers = status, error, description, list(headers)

    def answer(self) -> Answer:
        return self.status, {"error": self.error, "error_description": self.description}, self.headers


def _metadata_error(description: str) -> RegistrationError:
    return RegistrationError(400, "invalid_client_metadata", description)


def _redirect_error(description: str) -> RegistrationError:
    return RegistrationError(400, "invalid_redirect_uri", description)


def client_uri(issuer: str, client_id: str) -> str:
    """The client's configuration endpoint (RFC 7592 §2), its ``registration_client_uri``."""
    return f"{issuer}{PATHS['registration_endpoint']}/{client_id}"


def bearer_token(authorization: str | None) -> str | None:
    scheme, _, token = (authorization or "").strip().partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


def read_json(body: bytes) -> dict:
    """The request's JSON object (RFC 7591 §3.1); anything else is ``invalid_client_metadata``."""
    try:
        data = json.loads(body.decode("utf-8"))
        nul = _holds_nul(data)
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise _metadata_error("The body must be a JSON object of client metadata (RFC 7591 §3.1).") from None
    if not isinstance(data, dict):
        raise _metadata_error("The body must be a JSON object of client metadata, not a JSON "
                              f"{type(data).__name__}.")
    if nul:
        raise _metadata_error("The client metadata must not contain U+0000.")
    return data


def _holds_nul(value) -> bool:
    """A NUL anywhere in the metadata (PostgreSQL text cannot hold one), whatever the Content-Type said."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_holds_nul(k) or _holds_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_holds_nul(item) for item in value)
    return False


def redirect_uri_refusal(uri) -> str | None:
    """Why ``uri`` cannot be a registered client's redirect URI, or None when it can (RFC 8252 §7)."""
    if not isinstance(uri, str) or not uri:
        return "each redirect URI must be a non-empty string"
    try:
        parts = urlsplit(uri)
        host = parts.hostname
    except ValueError:
        return f"{uri!r} is not a valid URL"
    if "#" in uri:
        return f"{uri!r} must not contain a fragment (RFC 6749 §3.1.2)"
    if parts.scheme == "https":
        return None if host else f"{uri!r} has no host"
    if parts.scheme == "http":
        return None if host in LOOPBACK_HOSTS else (
            f"{uri!r}: plain http is allowed only on a loopback host (127.0.0.1, [::1], localhost; RFC 8252 §7.3); "
            "use https")
    if "." in parts.scheme:
        return None
    return (f"{uri!r} must be https, http on a loopback host, or a private-use scheme with a dot such as "
            "com.example.app:/callback (RFC 8252 §7.1)")


def _strings(data: dict, name: str) -> list[str] | None:
    value = data.get(name)
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise _metadata_error(f"{name} must be an array of strings.")
    return list(dict.fromkeys(value))


def _text(data: dict, name: str, limit: int = MAX_TEXT) -> str | None:
    value = data.get(name)
    if value is None or value == "":
        return None
    if not isinstance(value, str) or len(value) > limit:
        raise _metadata_error(f"{name} must be a string of at most {limit} characters.")
    return value


def _refuse_software_statement(data: dict) -> None:
    statement = data.get("software_statement")
    if statement is None:
        return
    if not isinstance(statement, str) or not COMPACT_JWS.match(statement):
        raise RegistrationError(400, "invalid_software_statement", "software_statement must be a signed JWT.")
    raise RegistrationError(400, "unapproved_software_statement",
                            "This server trusts no software statement issuer; register without one.")


def _grants_and_responses(data: dict) -> list[str]:
    """authgate's names of ``grant_types`` (default ``authorization_code``), checked against ``response_types``
    (default: ``code`` for the code grant, none otherwise), RFC 7591 §2.1."""
    asked = _strings(data, "grant_types")
    grants = [GRANTS.name_of(g) for g in (["authorization_code"] if asked is None else asked)]
    if not grants:
        raise _metadata_error("grant_types must name at least one grant type.")
    responses = _strings(data, "response_types")
    code = "authorization_code" in grants
    if responses is None:
        responses = ["code"] if code else []
    unsupported = [r for r in responses if r != "code"]
    if unsupported:
        raise _metadata_error(f"response types not supported: {' '.join(unsupported)} (only code).")
    if code != ("code" in responses):
        raise _metadata_error("grant_types and response_types disagree (RFC 7591 §2.1): the authorization_code "
                              "grant goes with the code response type, and only it.")
    return grants


def _kept(data: dict, auth_method: str) -> dict:
    kept = {"token_endpoint_auth_method": auth_method}
    for name in URL_FIELDS:
        value = _text(data, name)
        if value is not None:
            scheme = urlsplit(value).scheme
            if scheme not in ("http", "https"):
                raise _metadata_error(f"{name} must be an http(s) URL.")
            kept[name] = value
    for name in TEXT_FIELDS:
        value = _text(data, name, 255)
        if value is not None:
            kept[name] = value
    contacts = _strings(data, "contacts")
    if contacts:
        if len(contacts) > MAX_CONTACTS or any(len(c) > 255 for c in contacts):
            raise _metadata_error(f"contacts must hold at most {MAX_CONTACTS} strings of at most 255 characters.")
        kept["contacts"] = contacts
    return kept


def asked_registration(data: dict) -> Registration:
    """RFC 7591 §2 client metadata as a ``Registration``; unknown fields are ignored."""
    _refuse_software_statement(data)
    method = data.get("token_endpoint_auth_method", "client_secret_basic")
    if method not in AUTH_METHODS:
        raise _metadata_error(f"token_endpoint_auth_method must be one of {', '.join(AUTH_METHODS)}.")
    uris = _strings(data, "redirect_uris") or []
    for uri in uris:
        refusal = redirect_uri_refusal(uri)
        if refusal:
            raise _redirect_error(refusal)
    grants = _grants_and_responses(data)
    if "authorization_code" in grants and not uris:
        raise _redirect_error("redirect_uris is required for the authorization_code grant (RFC 7591 §2).")
    scope = data.get("scope")
    if scope is not None and not isinstance(scope, str):
        raise _metadata_error("scope must be a string of space-separated scopes.")
    secret = data.get("client_secret")
    session_required = data.get("backchannel_logout_session_required", False)
    if not isinstance(session_required, bool):
        raise _metadata_error("backchannel_logout_session_required must be true or false.")
    logout = {"post_logout_redirect_uris": _strings(data, "post_logout_redirect_uris") or [],
              "backchannel_logout_uri": _text(data, "backchannel_logout_uri"),
              "backchannel_logout_session_required": session_required}
    keyed = method == client_keys.PRIVATE_KEY_JWT
    jwks, jwks_uri = data.get("jwks"), data.get("jwks_uri")
    if not keyed and (jwks is not None or jwks_uri is not None):
        raise _metadata_error("jwks and jwks_uri go with token_endpoint_auth_method private_key_jwt here.")
    if jwks_uri is not None and not isinstance(jwks_uri, str):
        raise _metadata_error("jwks_uri must be a string.")
    requirements = {}
    for field_name, requirement in REQUIREMENT_FIELDS.items():
        value = data.get(field_name)
        if value is not None and not isinstance(value, bool):
            raise _metadata_error(f"{field_name} must be true or false.")
        if value is not None:
            requirements[requirement] = value
    return Registration(
        name=_text(data, "client_name", 255), redirect_uris=uris, grants=grants,
        scopes=scope_rules.parse(scope) if scope is not None else None, public=method == "none",
        metadata=_kept(data, method), secret=secret if isinstance(secret, str) else None, logout=logout,
        auth_method=method if keyed else None, jwks=jwks if keyed else None, jwks_uri=jwks_uri if keyed else None,
        requirements=requirements)


def client_information(client: Client, issuer: str, registration_token: str, secret: str | None = None) -> dict:
    """The client information response (RFC 7591 §3.2.1, RFC 7592 §3): what the server holds."""
    kept = dict(client.registration_metadata or {})
    urns = {spec.name: spec.urn or spec.name for spec in GRANTS.specs()}
    body = {
        "client_id": client.client_id,
        "client_id_issued_at": int(client.registered_at.timestamp()),
    }
    if secret:
        body["client_secret"] = secret
    if not client.public and not client.auth_method:
        expires = client.secret_expires_at
        body["client_secret_expires_at"] = int(expires.timestamp()) if expires else 0
    body |= {
        "registration_access_token": registration_token,
        "registration_client_uri": client_uri(issuer, client.client_id),
        "client_name": client.name,
        "redirect_uris": list(client.redirect_uris),
        "grant_types": [urns.get(g, g) for g in client.grants],
        "response_types": ["code"] if "authorization_code" in client.grants else [],
        "scope": scope_rules.join(client.scopes),
        **{name: value for name, value in logout_view(client).items() if value},
        **kept,
        **{field_name: bool(getattr(client, requirement)) for field_name, requirement in REQUIREMENT_FIELDS.items()},
        "token_endpoint_auth_method": "none" if client.public else client.auth_method or kept.get(
            "token_endpoint_auth_method", "client_secret_basic"),
    }
    body |= {name: value for name, value in (("jwks", client.jwks), ("jwks_uri", client.jwks_uri)) if value}
    return body


def _unauthenticated(error: Unauthenticated) -> RegistrationError:
    return RegistrationError(401, "invalid_token", str(error),
                             [("WWW-Authenticate", f'Bearer error="invalid_token", error_description="{error}"')])


def _refused(error: Invalid) -> RegistrationError:
    if error.field == "redirect_uris":
        return _redirect_error(str(error))
    return _metadata_error(str(error))


def _answering(work) -> Answer:
    """``work()``'s answer, or the error answer it raised (service refusals in the protocol's codes)."""
    try:
        return work()
    except RegistrationError as error:
        return error.answer()
    except Unauthenticated as error:
        return _unauthenticated(error).answer()
    except Invalid as error:
        return _refused(error).answer()
    except TooManyAttempts as error:
        return RegistrationError(429, "too_many_requests", str(error),
                                 [("Retry-After", str(error.retry_after))]).answer()


def _enabled(runtime) -> None:
    if runtime.registration.mode == OFF:
        raise RegistrationError(404, "not_found", "Dynamic client registration is not enabled on this server.")


def register(runtime, body: bytes, authorization: str | None, ip: str | None) -> Answer:
    """``POST /oauth/register`` (RFC 7591 §3): 201 and the client information, or an error."""
    def work() -> Answer:
        _enabled(runtime)
        runtime.registration.throttle(ip)
        with runtime.db.session() as s:
            client, secret, token = runtime.registration.register(
                s, bearer_token(authorization), lambda: asked_registration(read_json(body)))
            return 201, client_information(client, runtime.settings.issuer, token, secret), []

    return _answering(work)


def read(runtime, client_id: str, authorization: str | None) -> Answer:
    """``GET`` the client configuration endpoint (RFC 7592 §2.1)."""
    def work() -> Answer:
        _enabled(runtime)
        token = bearer_token(authorization)
        with runtime.db.session(write=False) as s:
            client = runtime.registration.registered(s, client_id, token)
            return 200, client_information(client, runtime.settings.issuer, token), []

    return _answering(work)


def update(runtime, client_id: str, authorization: str | None, body: bytes) -> Answer:
    """``PUT`` the client configuration endpoint (RFC 7592 §2.2): the metadata replaced, as registered anew."""
    def asked() -> Registration:
        data = read_json(body)
        if data.get("client_id") != client_id:
            raise _metadata_error("client_id must be in the body and be this client's (RFC 7592 §2.2).")
        return asked_registration(data)

    def work() -> Answer:
        _enabled(runtime)
        token = bearer_token(authorization)
        with runtime.db.session() as s:
            client = runtime.registration.update(s, client_id, token, asked)
            return 200, client_information(client, runtime.settings.issuer, token), []

    return _answering(work)


def delete(runtime, client_id: str, authorization: str | None) -> Answer:
    """``DELETE`` the client configuration endpoint (RFC 7592 §2.3): 204, the client and its tokens gone."""
    def work() -> Answer:
        _enabled(runtime)
        with runtime.db.session() as s:
            runtime.registration.delete(s, client_id, bearer_token(authorization))
            return 204, None, []

    return _answering(work)
