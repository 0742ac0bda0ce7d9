"""OAuth tokens: signed JWT access tokens (RFC 9068), rotating refresh tokens, and token families.

A family is every token issued from one authorization code or one password sign-in, across
refreshes; revoking the family (on code replay or refresh-token reuse, or when the user revokes the
application) revokes them all at once, and the personal access tokens made with them.
"""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlalchemy.orm import Session

from authgate.security import sealing
from authgate.security import secrets as gen
from authgate.security.secrets import SecretHasher
from authgate.services.accounts.sign_in.assurance import acr_of
from authgate.services.applications import profiles
from authgate.services.caching import events
from authgate.services.credentials import scopes as scope_rules
from authgate.services.credentials.keys import KeyService
from authgate.services.operations import audit
from authgate.settings import Settings
from authgate.storage.models import Client, RefreshToken, TokenFamily, User
from authgate.storage.repositories.tokens import ClientChanged, TokenStore
from authgate.storage.types import utcnow

AT_JWT_TYPE = "at+jwt"
__all__ = ["AT_JWT_TYPE", "ClientChanged", "IssuedAccessToken", "TokenService"]


@dataclass(frozen=True)
class IssuedAccessToken:
    token: str
    jti: str
    expires_in: int


class TokenService:
    def __init__(self, settings: Settings, hasher: SecretHasher, keys: KeyService, store: TokenStore):
        self.settings = settings
        self.hasher = hasher
        self.keys = keys
        self.store = store

    def start_family(
        self, s: Session, client: Client, user: User | None, grant_type: str, scope: str,
        authorization_code_id: int | None = None, amr: str | None = None, dpop_jkt: str | None = None,
        resources: list[str] | None = None,
        session_id: int | None = None,
    ) -> TokenFamily:
        """A new family, inserted at once; the object returned is outside the session (read its fields only).
        ``amr``: how the user authenticated (RFC 8176), carried by every access token of the family.
        ``dpop_jkt`` binds a public client's refresh tokens to its DPoP key (RFC 9449 §5); a confidential
        client's are bound by its authentication already. ``resources``: what the grant was made for
        (RFC 8707), None when it named none. ``session_id``: the browser session the code was approved in (the
        client hears when it ends: Back-Channel Logout)."""
        values = {"client_id": client.id, "user_id": user.id if user else None, "grant_type": grant_type,
                  "scope": scope, "authorization_code_id": authorization_code_id, "amr": amr or None,
                  "dpop_jkt": dpop_jkt if client.public else None, "session_id": session_id}
        if resources is not None:
            values["resources"] = list(resources)
        return TokenFamily(id=self.store.new_family(s, values), **values)

    # -- issuing -------------------------------------------------------------------------------------

    def issue(
        self, s: Session, grant_type: str, client: Client, user: User | None, scope: str, family: TokenFamily | None,
        *, expires_in: int | None = None, with_refresh: bool = True, dpop_jkt: str | None = None,
        audience: list[str] | None = None, signing_alg: str | None = None,
    ) -> dict:
        """A grant's token response (RFC 6749 §5.1), recorded and audited: an access token, and a refresh
        token when asked for, the tokens have a family, the client may refresh and the scope allows it.
        With ``dpop_jkt`` the access token is bound to that DPoP key (``cnf``, ``token_type`` DPoP: RFC 9449 §5);
        ``audience``: the resources the access token is for (RFC 8707), None for the issuer; ``signing_alg``: the
        algorithm they chose (None: the default key's).

        The client was authenticated from memory, which another worker's change reaches only later, and a request in
        flight may have read it just before a change here: the transaction that records the tokens checks its row
        (``TokenStore.client_may_get_tokens`` raises ``ClientChanged``), so no token outlives a disable, a deletion
        or a new secret that committed around it (the change is either seen, or waits and then revokes them)."""
        self.store.client_may_get_tokens(s, client.id, client.secret_hash)
        issued = self.issue_access_token(s, client, user, scope, family.id if family else None, expires_in,
                                         amr=family.amr if family is not None and user is not None else None,
                                         dpop_jkt=dpop_jkt, audience=audience, signing_alg=signing_alg)
        response = {
            "token_type": "DPoP" if dpop_jkt else "Bearer",
            "access_token": issued.token,
            "expires_in": issued.expires_in,
            "scope": scope,
        }
        if (
            with_refresh
            and family is not None
            and "refresh_token" in client.grants
            and scope_rules.allows_refresh(scope_rules.parse(scope))
        ):
            response["refresh_token"] = self.issue_refresh_token(s, family, scope)
        audit.record(
            s, "token.refreshed" if grant_type == "refresh_token" else "token.issued",
            user_id=user.id if user is not None else None, client_id=client.client_id, subject=issued.jti,
            details={"grant_type": grant_type, "scope": scope, "refresh_token": "refresh_token" in response,
                     **({"resource": " ".join(audience)} if audience else {})},
        )
        return response

    def access_token_claims(self, client: Client, user: User | None, scope: str, *, jti: str, issued_at: int,
                            ttl: int, amr: str | None = None, dpop_jkt: str | None = None,
                            audience: list[str] | None = None) -> dict:
        """The claims of an access token (RFC 9068 §2.2), built here and nowhere else: ``aud`` is the list of
        resources asked for (RFC 8707 §2), or the issuer (a string) for a token asked for none, as before
        resources existed; ``cnf`` (a proof-of-possession key) and ``act`` (the actor of a delegation) join them here.
        ``amr`` and ``acr`` (RFC 9068 §2.2.1) say how the user authenticated, when the grant recorded it."""
        claims = {
            "iss": self.settings.issuer,
            "sub": str(user.id) if user else client.client_id,
            "aud": list(audience) if audience else self.settings.issuer,
            "exp": issued_at + ttl,
            "iat": issued_at,
            "jti": jti,
            "client_id": client.client_id,
            "scope": scope,
        }
        if amr:
            claims.update(amr=amr.split(), acr=acr_of(amr))
        if dpop_jkt:
            claims["cnf"] = {"jkt": dpop_jkt}
        return claims

    def sign_access_token(self, s: Session, claims: dict, fapi2: bool = False, alg: str | None = None) -> str:
        """Sign with the key that signs access tokens now (of ``alg`` when the resources chose one; for a FAPI 2.0
        client, of an algorithm the profile allows), typed ``at+jwt`` (RFC 9068 §2.1)."""
        from joserfc import jwt  # here, not at the top: commands that sign nothing never load JOSE

        key = self.keys.access_token_key(s, alg, fapi2)
        header = {"alg": key.alg, "typ": AT_JWT_TYPE, "kid": key.kid}
        return jwt.encode(header, claims, key, algorithms=[key.alg])

    def issue_access_token(
        self, s: Session, client: Client, user: User | None, scope: str, family_id: int | None,
        expires_in: int | None = None, amr: str | None = None, dpop_jkt: str | None = None,
        audience: list[str] | None = None, signing_alg: str | None = None,
    ) -> IssuedAccessToken:
        """Sign an RFC 9068 JWT and record its ``jti`` so that it can be revoked."""
        ttl = expires_in or self.settings.access_token_ttl
        now = int(time.time())
        jti = secrets.token_urlsafe(16)
        token = self.sign_access_token(s, self.access_token_claims(client, user, scope, jti=jti, issued_at=now, ttl=ttl,
                                                                   amr=amr, dpop_jkt=dpop_jkt, audience=audience),
                                       fapi2=profiles.fapi2(self.settings, client), alg=signing_alg)
        self.store.add_access_token(s, {
            "jti": jti,
            "family_id": family_id,
            "client_id": client.id,
            "user_id": user.id if user else None,
            "scope": scope,
            "expires_at": datetime.fromtimestamp(now + ttl, timezone.utc),
        })
        return IssuedAccessToken(token=token, jti=jti, expires_in=ttl)

    def issue_refresh_token(self, s: Session, family: TokenFamily, scope: str) -> str:
        token = gen.generate(gen.REFRESH_TOKEN_PREFIX)
        self.store.add_refresh_token(s, {
            "token_hash": self.hasher.hash(token),
            "family_id": family.id,
            "client_id": family.client_id,
            "user_id": family.user_id,
            "scope": scope,
            "expires_at": utcnow() + timedelta(seconds=self.settings.refresh_token_ttl),
        })
        return token

    def find_refresh_token(self, s: Session, token: str) -> RefreshToken | None:
        return self.store.refresh_token(s, self.hasher.hash(token))

    def find_refresh_token_with_family(self, s: Session, token: str) -> tuple[RefreshToken, TokenFamily | None] | None:
        """The presented token's record and its family's (None if gone), read together."""
        return self.store.refresh_token_with_family(s, self.hasher.hash(token))

    def live_families(self, s: Session, user_id: int, client_pk: int | None = None) -> list[tuple[TokenFamily, Client]]:
        """The user's families that still hold a working token, with their client (the authorized applications)."""
        return self.store.live_families(s, user_id, client_pk, utcnow())

    def family(self, s: Session, family_id: int) -> TokenFamily | None:
        return self.store.family(s, family_id)

    def claim_refresh_token(self, s: Session, row: RefreshToken) -> bool:
        """Mark ``row`` rotated; False when it was already, or another request rotated it first (so:
        reuse; ``row`` is then read again, to see that rotation)."""
        if row.rotated_at is not None:
            return False
        if self.store.rotate_refresh(s, row.id, utcnow()):
            return True
        self.store.reread_refresh(s, row)
        return False

    def remember_rotation(self, s: Session, row: RefreshToken, presented: str, response: dict) -> None:
        """Keep the pair a rotation issued, sealed with the old token, for a retry within the grace window."""
        if self.settings.refresh_grace_seconds:
            blob = sealing.seal(presented, json.dumps(response).encode())
            self.store.keep_replay(s, row.id, blob)

    def replay_rotation(self, s: Session, row: RefreshToken, presented: str) -> dict | None:
        """The pair issued when ``row`` was rotated, if the retry comes within the grace window and the
        new refresh token of that pair has not been used (or revoked) yet: a client that lost the
        response has never seen it, so once it was used the old token's reuse is theft (RFC 9700 §4.14.2)."""
        grace = timedelta(seconds=self.settings.refresh_grace_seconds)
        if not grace or row.rotated_at is None or row.replay_blob is None or utcnow() - row.rotated_at > grace:
            return None
        plaintext = sealing.unseal(presented, row.replay_blob)
        pair = json.loads(plaintext) if plaintext else None
        successor = pair.get("refresh_token") if pair else None
        if successor is not None:
            found = self.find_refresh_token(s, successor)
            if found is None or found.rotated_at is not None or found.revoked_at is not None:
                return None
        return pair

    def revoke_family(self, s: Session, family_id: int) -> None:
        """Revoke the family's tokens, and the personal access tokens made with them: none outlives its grant."""
        now = utcnow()
        events.record(s, events.JTI, self.store.revoke_family(s, family_id, now))
        events.record(s, events.PAT, self.store.revoke_personal_tokens(s, now, family_id=family_id))

    # -- the reuse rule ------------------------------------------------------------------------------

    def code_reused(self, s: Session, authorization_code_id: int, user_id: int, client_id: str) -> None:
        """An authorization code presented again (RFC 6749 §4.1.2, §10.5): ``_reused``."""
        self._reused(s, "code.replayed", self.store.families_of_code(s, authorization_code_id),
                     user_id=user_id, client_id=client_id)

    def rotated_refresh_presented(self, s: Session, row: RefreshToken, presented: str, client_id: str) -> dict | None:
        """A refresh token presented after its rotation: the pair of that rotation to a retry in the
        grace window (``replay_rotation``); otherwise reuse (RFC 9700 §4.14.2): ``_reused``, and None."""
        replayed = self.replay_rotation(s, row, presented)
        if replayed is None:
            self._reused(s, "token.reuse_detected", [row.family_id], user_id=row.user_id, client_id=client_id,
                         details={"family": row.family_id})
        return replayed

    def _reused(self, s: Session, event: str, family_ids: list[int], *, user_id: int | None, client_id: str,
                details: dict | None = None) -> None:
        """The one rule for a single-use credential used twice: it may be in a thief's hands, so every
        family issued from it is revoked, and the reuse audited. The caller commits although the
        request fails, so that the revocation holds."""
        for family_id in family_ids:
            self.revoke_family(s, family_id)
        audit.record(s, event, user_id=user_id, client_id=client_id, details=details)

    def revoke_client(self, s: Session, client_pk: int) -> None:
        """Revoke every family, refresh token and access token of the client (row id), and the personal access
        tokens made with them: it was disabled or is being deleted."""
        now = utcnow()
        events.record(s, events.JTI, self.store.revoke_client(s, client_pk, now))
        events.record(s, events.PAT, self.store.revoke_personal_tokens(s, now, client_pk=client_pk))

    def revoke_user(self, s: Session, user_id: int) -> None:
        """Revoke every family, refresh token and access token of ``user_id`` (their account is gone)."""
        events.record(s, events.JTI, self.store.revoke_user(s, user_id, utcnow()))
