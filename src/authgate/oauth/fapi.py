"""The FAPI 2.0 Security Profile (OpenID Foundation, final) at the endpoints, for a client held to it by its
registration or by the server (``services/applications/profiles.py`` says which).

Checked once the client has authenticated (``AuthorizationServer.authenticate_client``, every endpoint):
``private_key_jwt`` and nothing else (§5.3.2.1 item 6; ``invalid_client``), and at the token endpoint only
the code, refresh and client credentials grants (§5.3.2.1 item 2: no password grant; ``unauthorized_client``)
and a DPoP proof with every request (§5.3.2.1 item 4: sender-constrained tokens only; ``invalid_dpop_proof``).
DPoP proofs (here) and client assertions (``client_assertion.py``, which also takes only the issuer as
``aud``, §5.3.2.1 item 8) must be signed with PS256, ES256 or EdDSA (§5.4.1). Elsewhere: pushed requests are
required (``decisions.py``), with ``redirect_uri`` (``par.py``), PKCE with S256 for every client
(``grants/pkce.py``), codes live at most 60 s (``CodeService.lifetime``), and tokens and ID tokens are signed
with a key the profile allows (``KeyService``, purpose ``fapi2``).
"""

from __future__ import annotations

from authlib.oauth2.rfc6749 import InvalidClientError, InvalidRequestError, UnauthorizedClientError

from authgate.oauth.errors import DpopProofError
from authgate.services.applications import client_keys, profiles

ALLOWED_GRANT_TYPES = frozenset(profiles.FAPI2_GRANTS)
"""Their ``grant_type`` values are their names (RFC 6749 §4.1.3, §4.4.2, §6)."""
REFUSED_ENDPOINTS = ("device_authorization",)


def applies(server, client) -> bool:
    """Whether ``client`` (an ``OAuthClient``) is held to FAPI 2.0."""
    return profiles.fapi2(server.runtime.settings, client.row)


def check_authenticated(server, request, client, endpoint: str) -> None:
    """The profile's rules on a request ``client`` has just authenticated at ``endpoint``; raises ``OAuth2Error``."""
    if not applies(server, client):
        return
    row = client.row
    if row.public or row.auth_method != client_keys.PRIVATE_KEY_JWT or not request.form.get("client_assertion"):
        raise InvalidClientError(status_code=401, description="This client is held to FAPI 2.0: it must authenticate "
                                 "with private_key_jwt (FAPI 2.0 Security Profile section 5.3.2.1).")
    if endpoint in REFUSED_ENDPOINTS:
        raise UnauthorizedClientError("A FAPI 2.0 client may use only the authorization code, refresh token and "
                                      "client credentials grants.")
    if endpoint != "token":
        return
    if request.payload.grant_type not in ALLOWED_GRANT_TYPES:
        raise UnauthorizedClientError("A FAPI 2.0 client may use only the authorization code, refresh token and "
                                      "client credentials grants (FAPI 2.0 Security Profile section 5.3.2.1).")
    if not request.dpop_jkt:
        raise DpopProofError("invalid_dpop_proof", "A FAPI 2.0 client gets only sender-constrained tokens: send a "
                             "DPoP proof with every token request (RFC 9449).")
    check_proof_algorithm(server, client, request.dpop_alg)


def check_proof_algorithm(server, client, alg: str | None) -> None:
    """A DPoP proof of a FAPI 2.0 client is signed with PS256, ES256 or EdDSA (§5.4.1)."""
    if alg is not None and alg not in profiles.FAPI2_ALGORITHMS and applies(server, client):
        raise DpopProofError("invalid_dpop_proof", "A FAPI 2.0 client signs its DPoP proofs with "
                             + ", ".join(profiles.FAPI2_ALGORITHMS) + f", not {alg}.")


def check_push(server, client, form: list[tuple[str, str]]) -> None:
    """A FAPI 2.0 client's pushed request names its ``redirect_uri`` (§5.3.2.2 item 5)."""
    if applies(server, client) and not any(name == "redirect_uri" and value for name, value in form):
        raise InvalidRequestError("A FAPI 2.0 client must send 'redirect_uri' in its pushed authorization request.")


def must_push(server, client_row) -> bool:
    """FAPI 2.0 clients push every authorization request (§5.3.2.2 item 3)."""
    return profiles.fapi2(server.runtime.settings, client_row)


def strict_assertions(settings):
    """For ``PrivateKeyJwt``: whether a client's assertions are held to the profile."""
    return lambda row: profiles.fapi2(settings, row)
