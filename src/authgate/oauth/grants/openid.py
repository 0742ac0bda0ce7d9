"""OpenID Connect Core 1.0 on the code grant: Authlib's ``OpenIDCode`` extension, attached like PKCE.

With ``openid`` in the scope the token response carries an ``id_token`` (§3.1.3.3) signed with
the active RS256 key (its ``kid`` in the header; RS256 whatever signs access tokens, Core §15.1): iss, sub, aud, exp, iat, auth_time (when the user
signed in, not when the code was made), nonce, at_hash. The ID token says who signed in; with the
``email`` scope it also carries ``email`` and ``email_verified`` (§5.1), which relying parties read there to
trust an address; the profile claims come from the UserInfo endpoint (§5.4). ``acr`` and ``amr`` say how the
user signed in (``services/accounts/sign_in/assurance.py``). Also here: the rules of ``prompt``, ``max_age`` and
``acr_values`` (§3.1.2.1) and the provider metadata (Discovery §3).
"""

from __future__ import annotations

import time
from datetime import datetime

from authlib.oauth2.rfc6749 import InvalidRequestError
from authlib.oidc.core import grants as oidc_grants
from authlib.oidc.core.errors import ConsentRequiredError, InteractionRequiredError, LoginRequiredError
from authgate.oauth.context import current_db
from authgate.oauth.endpoints.metadata import PATHS
from authgate.oauth.endpoints.userinfo import ID_TOKEN_CLAIMS, SCOPE_CLAIMS, email_claims
from authgate.services.accounts.sign_in.assurance import ACR_MFA, ACR_VALUES_SUPPORTED, is_multi_factor
from authgate.services.applications import profiles

PROMPTS_SUPPORTED = ["none", "login", "consent"]


class OpenIDCode(oidc_grants.OpenIDCode):
    def __init__(self, services):
        super().__init__(require_nonce=False)
        self.services = services

    def exists_nonce(self, nonce: str, request) -> bool:
        """A nonce already used by this client is a replay (§3.1.2.1)."""
        client = self.services.clients.view(request.db, request.payload.client_id or "")
        return client is not None and self.services.codes.nonce_used(request.db, client.id, nonce)

    def resolve_client_private_key(self, client):
        """The active RS256 key; for a FAPI 2.0 client, a key of an algorithm the profile allows (§5.4.1)."""
        return self.services.keys.id_token_key(current_db(), fapi2=profiles.fapi2(self.services.settings, client.row))

    def get_client_algorithm(self, client) -> str:
        return self.resolve_client_private_key(client).alg

    def get_encode_header(self, client) -> dict:
        key = self.resolve_client_private_key(client)
        return {"alg": key.alg, "kid": key.kid, "typ": "JWT"}

    def get_client_claims(self, client) -> dict:
        now = int(time.time())
        return {
            "iss": self.services.settings.issuer,
            "aud": client.get_client_id(),
            "iat": now,
            "exp": now + self.services.settings.access_token_ttl,
        }

    def get_authorization_code_claims(self, authorization_code) -> dict:
        """Core §2's claims, and ``sid``: the browser session the code was approved in (Back-Channel Logout §2.1)."""
        claims = super().get_authorization_code_claims(authorization_code)
        if authorization_code.row.session_id is not None:
            claims["sid"] = self.services.sessions.sid(authorization_code.row.session_id)
        return claims

    def generate_user_info(self, user, scope) -> dict:
        claims = {"sub": str(user.id)}
        if "email" in (scope or "").split():
            claims.update(email_claims(user))
        return claims

    def provider_metadata(self, server, s) -> dict:
        """The OpenID Provider fields of the discovery document (Discovery 1.0 §3)."""
        issuer = self.services.settings.issuer
        return {
            "userinfo_endpoint": issuer + PATHS["userinfo_endpoint"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": self.services.keys.id_token_algorithms(
                s, self.services.settings.profile == profiles.FAPI2),
            "claims_supported": list(dict.fromkeys(ID_TOKEN_CLAIMS + [c for cs in SCOPE_CLAIMS.values() for c in cs])),
            "claim_types_supported": ["normal"],
            "prompt_values_supported": PROMPTS_SUPPORTED,
            "acr_values_supported": ACR_VALUES_SUPPORTED,
            "claims_parameter_supported": False,
            "end_session_endpoint": issuer + PATHS["end_session_endpoint"],
            "backchannel_logout_supported": True,
            "backchannel_logout_session_supported": True,
        }


def sign_in_needed(request, auth_time: datetime | None, now: datetime, consent_remembered: bool = False) -> bool:
    """Must the user (re)authenticate before this OpenID request (§3.1.2.1 ``prompt``, ``max_age``)?

    Raises the errors to send back: ``login_required`` / ``consent_required`` for ``prompt=none``
    (the latter unless the user's consent to these scopes is remembered), ``invalid_request`` for a
    bad ``max_age``.
    """
    data = request.payload.data
    redirect_uri, state = request.payload.redirect_uri or request.client.get_default_redirect_uri(), data.get("state")
    prompts = (data.get("prompt") or "").split()
    max_age = data.get("max_age")
    if max_age is not None and not (max_age.isdigit() and len(max_age) < 10):
        raise InvalidRequestError("max_age must be a whole number of seconds.", redirect_uri=redirect_uri, state=state)
    too_old = auth_time is None or (max_age is not None and (now - auth_time).total_seconds() > int(max_age))
    needed = too_old or "login" in prompts
    if "none" in prompts:
        if needed:
            raise LoginRequiredError(redirect_uri=redirect_uri, state=state)
        if not consent_remembered:
            raise ConsentRequiredError(redirect_uri=redirect_uri, state=state)
    return needed


def second_factor_needed(request, amr) -> bool:
    """Must a signed-in user, whose session recorded ``amr``, go through a second factor before this request is
    answered? Yes when ``acr_values`` (§3.1.2.1; RFC 9470 §4) names ``ACR_MFA`` and the session has one factor:
    authgate treats that value as essential, not voluntary. With ``prompt=none`` that is ``interaction_required``."""
    data = request.payload.data
    if ACR_MFA not in (data.get("acr_values") or "").split() or is_multi_factor(amr):
        return False
    if "none" in (data.get("prompt") or "").split():
        raise InteractionRequiredError("A second factor is needed, and prompt=none forbids asking for it.",
                                       redirect_uri=request.payload.redirect_uri or request.client.get_default_redirect_uri(),
                                       state=data.get("state"))
    return True
