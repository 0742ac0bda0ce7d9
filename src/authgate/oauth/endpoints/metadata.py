"""Authorization server metadata (RFC 8414) and OpenID Provider metadata (OIDC Discovery 1.0 §3).

Built from what the server really has registered — its grants and their extensions, its
endpoints and their client authentication methods, the scopes, the signing key — so that the
documents cannot claim something the server does not do. ``PATHS`` is where each endpoint
lives; the web routes are declared with the same constants.
"""

from __future__ import annotations

from authlib.oauth2.rfc7636 import CodeChallenge

from authgate.oauth.dpop import ALGORITHMS as DPOP_ALGORITHMS
from authgate.services.applications import client_keys, profiles

PATHS = {
    "authorization_endpoint": "/oauth/authorize",
    "token_endpoint": "/oauth/token",
    "jwks_uri": "/oauth/jwks",
    "revocation_endpoint": "/oauth/revoke",
    "introspection_endpoint": "/oauth/introspect",
    "userinfo_endpoint": "/oauth/userinfo",
    "device_authorization_endpoint": "/oauth/device",
    "registration_endpoint": "/oauth/register",
    "end_session_endpoint": "/oauth/logout",
    "pushed_authorization_request_endpoint": "/oauth/par",
}
AUTHORIZATION_SERVER_PATH = "/.well-known/oauth-authorization-server"
OPENID_CONFIGURATION_PATH = "/.well-known/openid-configuration"

# Authlib endpoint name -> (metadata name of its URL, of its client authentication methods or None)
REGISTERED_ENDPOINTS = {
    "revocation": ("revocation_endpoint", "revocation_endpoint_auth_methods_supported"),
    "introspection": ("introspection_endpoint", "introspection_endpoint_auth_methods_supported"),
    "device_authorization": ("device_authorization_endpoint", None),
}


def _unique(items) -> list:
    return list(dict.fromkeys(items))


def _extensions(server):
    for _, extensions in server.registered_grants:
        yield from extensions


def _grants(server, endpoint: str) -> list[type]:
    """The registered grants served at ``endpoint`` (``authorization`` or ``token``), as Authlib sorts them."""
    return [grant for grant, _ in server.registered_grants if hasattr(grant, f"check_{endpoint}_endpoint")]


def build(server, s) -> dict:
    """The metadata document: RFC 8414 fields, and the OpenID ones when OpenID Connect is registered."""
    issuer = server.runtime.settings.issuer
    token_grants = _grants(server, "token")
    doc = {
        "issuer": issuer,
        "authorization_endpoint": issuer + PATHS["authorization_endpoint"],
        "token_endpoint": issuer + PATHS["token_endpoint"],
        "jwks_uri": issuer + PATHS["jwks_uri"],
        "scopes_supported": list(server.scopes_supported),
        "response_types_supported": _unique(t for grant in _grants(server, "authorization") for t in sorted(grant.RESPONSE_TYPES)),
        "response_modes_supported": ["query"],
        "grant_types_supported": _unique(grant.GRANT_TYPE for grant in token_grants),
        "token_endpoint_auth_methods_supported": _unique(
            m for grant in token_grants for m in grant.TOKEN_ENDPOINT_AUTH_METHODS
        ),
        "code_challenge_methods_supported": _unique(
            m for ext in _extensions(server) if isinstance(ext, CodeChallenge) for m in ext.SUPPORTED_CODE_CHALLENGE_METHOD
        ),
        "authorization_response_iss_parameter_supported": server.SENDS_ISS_IN_AUTHORIZATION_RESPONSE,
        "dpop_signing_alg_values_supported": list(DPOP_ALGORITHMS),
        "protected_resources": [server.runtime.resources.own_identifier],
        "pushed_authorization_request_endpoint": issuer + PATHS["pushed_authorization_request_endpoint"],
        "require_pushed_authorization_requests": server.runtime.settings.require_par,
        "request_parameter_supported": True,
        "request_uri_parameter_supported": False,
        "request_object_signing_alg_values_supported": list(client_keys.ALGORITHMS),
        "require_signed_request_object": server.runtime.settings.require_request_object,
    }
    if client_keys.PRIVATE_KEY_JWT in doc["token_endpoint_auth_methods_supported"]:
        doc["token_endpoint_auth_signing_alg_values_supported"] = list(client_keys.ALGORITHMS)
    for name, (url_field, methods_field) in REGISTERED_ENDPOINTS.items():
        for endpoint in server.registered_endpoints.get(name, ())[:1]:
            doc[url_field] = issuer + PATHS[url_field]
            if methods_field:
                doc[methods_field] = list(endpoint.CLIENT_AUTH_METHODS)
                if client_keys.PRIVATE_KEY_JWT in endpoint.CLIENT_AUTH_METHODS:
                    doc[methods_field.replace("methods", "signing_alg_values")] = list(client_keys.ALGORITHMS)
    if server.runtime.settings.cimd:
        doc["client_id_metadata_document_supported"] = True
    if server.runtime.settings.registration_mode != "off":
        doc["registration_endpoint"] = issuer + PATHS["registration_endpoint"]
    for ext in _extensions(server):
        if hasattr(ext, "provider_metadata"):
            doc.update(ext.provider_metadata(server, s))
    if server.runtime.settings.profile == profiles.FAPI2:
        _fapi2(doc)
    return doc


def _fapi2(doc: dict) -> None:
    """What every client may do when the server holds them all to FAPI 2.0 (``AUTHGATE_PROFILE=fapi2``): push
    its requests, authenticate with ``private_key_jwt``, sign with PS256, ES256 or EdDSA, and use the grants
    the profile allows; no device authorization endpoint."""
    doc["require_pushed_authorization_requests"] = True
    doc["grant_types_supported"] = [g for g in doc["grant_types_supported"] if g in profiles.FAPI2_GRANTS]
    doc.pop("device_authorization_endpoint", None)
    for name in list(doc):
        if name.endswith("_auth_methods_supported"):
            doc[name] = [client_keys.PRIVATE_KEY_JWT]
        elif name.endswith("_auth_signing_alg_values_supported") or name == "dpop_signing_alg_values_supported":
            doc[name] = list(profiles.FAPI2_ALGORITHMS)
