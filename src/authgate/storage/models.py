"""The database tables. Every secret column holds a keyed hash, never the secret itself."""

from __future__ import annotations

import unicodedata
from datetime import datetime

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint, false
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, validates

from authgate.storage.types import UTCDateTime, utcnow


class Base(DeclarativeBase):
    pass


def identifier_key(value: str) -> str:
    """A sign-in identifier as compared: NFKC-normalised and case-folded in Python, so that
    ``Lucy``, ``LUCY`` and ``ｌｕｃｙ`` are one name on SQLite and PostgreSQL alike."""
    return unicodedata.normalize("NFKC", value or "").casefold()


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(255), unique=True)
    email: Mapped[str] = mapped_column(String(255), unique=True)
    firstname: Mapped[str] = mapped_column(String(255), default="")
    lastname: Mapped[str] = mapped_column(String(255), default="")
    password_hash: Mapped[str] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(16), default="ACTIVE")
    is_administrator: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    username_key: Mapped[str] = mapped_column(String, index=True)
    email_key: Mapped[str] = mapped_column(String, index=True)
    email_verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    """When the owner of ``email`` opened its verification (or invitation) link; None again when it changes."""

    @validates("username", "email")
    def _keep_key(self, name: str, value: str) -> str:
        setattr(self, f"{name}_key", identifier_key(value))
        return value


class Client(Base):
    __tablename__ = "oauth_clients"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client_id: Mapped[str] = mapped_column(String(512), unique=True)
    name: Mapped[str] = mapped_column(String(255))
    secret_hash: Mapped[str | None] = mapped_column(String(64), unique=True, nullable=True)
    public: Mapped[bool] = mapped_column(Boolean, default=False)
    redirect_uris: Mapped[list] = mapped_column(JSON, default=list)
    grants: Mapped[list] = mapped_column(JSON, default=list)
    scopes: Mapped[list] = mapped_column(JSON, default=list)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    directory_granted_by: Mapped[str | None] = mapped_column(String(16), nullable=True)
    """Who let the client read the directory with client credentials: "system", "user" or None (nobody)."""
    directory_grantor_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    """The user, when ``directory_granted_by`` is "user"; a user who is gone backs nothing."""
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    registered_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    """When the client registered itself (RFC 7591); None for a client an operator or administrator made."""
    registration_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True, nullable=True)
    """The keyed hash of its RFC 7592 registration access token."""
    registration_metadata: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    """The RFC 7591 metadata it registered that authgate keeps but does not act on (client_uri, contacts, ...)."""
    secret_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    """After this the secret no longer authenticates (``AUTHGATE_REGISTRATION_SECRET_SECONDS``); None: never."""
    post_logout_redirect_uris: Mapped[list | None] = mapped_column(JSON, nullable=True)
    """Where RP-Initiated Logout may send the browser back to (OpenID RP-Initiated Logout 1.0 §3.1)."""
    backchannel_logout_uri: Mapped[str | None] = mapped_column(Text, nullable=True)
    """Where logout tokens are posted (OpenID Back-Channel Logout 1.0 §2.2); None: none sent."""
    backchannel_logout_session_required: Mapped[bool] = mapped_column(Boolean, default=False)
    auth_method: Mapped[str | None] = mapped_column(String(32), nullable=True)
    """``private_key_jwt`` (RFC 7523 §2.2) for a client that proves itself with a key; None: by its secret, or none."""
    jwks: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    """Its public keys, inline (a JWK Set)."""
    jwks_uri: Mapped[str | None] = mapped_column(Text, nullable=True)
    """Where its public keys are published (fetched by ``services/operations/safe_fetch.py``)."""
    metadata_document_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    """When it was last read from its Client ID Metadata Document (its ``client_id`` is that URL); None: not such a client."""
    require_par: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    """Its authorization requests must be pushed (RFC 9126 §5 ``require_pushed_authorization_requests``)."""
    require_dpop: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    """Its token requests must carry a DPoP proof (RFC 9449 §5.2 ``dpop_bound_access_tokens``)."""
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    """When an administrator disabled it: it authenticates nowhere until enabled; None: usable."""
    require_request_object: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    """Its authorization requests must be signed request objects (RFC 9101 §10.5 ``require_signed_request_object``)."""
    profile: Mapped[str | None] = mapped_column(String(16), nullable=True)
    """The security profile it is held to: ``fapi2`` (FAPI 2.0 Security Profile), or None."""


class AuthorizationCode(Base):
    __tablename__ = "oauth_authorization_codes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("oauth_clients.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    redirect_uri: Mapped[str] = mapped_column(Text)
    scope: Mapped[str] = mapped_column(Text, default="")
    code_challenge: Mapped[str | None] = mapped_column(String(128), nullable=True)
    code_challenge_method: Mapped[str | None] = mapped_column(String(16), nullable=True)
    nonce: Mapped[str | None] = mapped_column(Text, nullable=True)
    auth_time: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    amr: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    session_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    """The ``web_sessions`` record the user approved it in (its ``sid``); None before 0019."""
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    resources: Mapped[list | None] = mapped_column(JSON, nullable=True)
    """The resource identifiers authorized (RFC 8707 §2.1); None: asked without ``resource``."""
    dpop_jkt: Mapped[str | None] = mapped_column(String(64), nullable=True)
    """The DPoP key the code's exchange must be proven by (``dpop_jkt``, RFC 9449 §10)."""


class TokenFamily(Base):
    """One chain of grants: every token issued from one code or one password login, across refreshes."""

    __tablename__ = "oauth_token_families"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("oauth_clients.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    grant_type: Mapped[str] = mapped_column(String(64))
    scope: Mapped[str] = mapped_column(Text, default="")
    authorization_code_id: Mapped[int | None] = mapped_column(
        ForeignKey("oauth_authorization_codes.id", ondelete="SET NULL"), nullable=True, index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    amr: Mapped[str | None] = mapped_column(String(64), nullable=True)
    """How the user authenticated for this grant (RFC 8176, space-separated); None without a user or before 0014."""
    dpop_jkt: Mapped[str | None] = mapped_column(String(64), nullable=True)
    """The DPoP key a public client's refresh tokens are bound to (RFC 9449 §5): each refresh proves it."""
    resources: Mapped[list | None] = mapped_column(JSON, nullable=True)
    """The resources of the whole grant: a refresh may ask for fewer, never more (RFC 8707 §2.2)."""
    session_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    """The ``web_sessions`` record its code was approved in: ending that session logs this client out."""


class AccessToken(Base):
    """A record of each JWT access token issued, by its ``jti``: what revocation and introspection need."""

    __tablename__ = "oauth_access_tokens"

    jti: Mapped[str] = mapped_column(String(64), primary_key=True)
    family_id: Mapped[int | None] = mapped_column(
        ForeignKey("oauth_token_families.id", ondelete="CASCADE"), nullable=True, index=True
    )
    client_id: Mapped[int] = mapped_column(ForeignKey("oauth_clients.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), nullable=True, index=True)
    scope: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class RefreshToken(Base):
    __tablename__ = "oauth_refresh_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    family_id: Mapped[int] = mapped_column(ForeignKey("oauth_token_families.id", ondelete="CASCADE"), index=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("oauth_clients.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    scope: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    rotated_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    replay_blob: Mapped[str | None] = mapped_column(Text, nullable=True)


class PersonalAccessToken(Base):
    __tablename__ = "personal_access_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(255))
    scopes: Mapped[list] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True, index=True)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    family_id: Mapped[int | None] = mapped_column(
        ForeignKey("oauth_token_families.id", ondelete="SET NULL", name="fk_personal_access_tokens_family_id"),
        nullable=True, index=True)
    """The grant (token family) whose access token made it through the API: it is revoked with that grant."""


class SigningKey(Base):
    """A signing key; ``private_jwk`` is ``{"sealed": ...}`` when encrypted at rest (``security/encryption.py``)."""

    __tablename__ = "signing_keys"

    kid: Mapped[str] = mapped_column(String(64), primary_key=True)
    alg: Mapped[str] = mapped_column(String(16))
    private_jwk: Mapped[dict] = mapped_column(JSON)
    public_jwk: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    activates_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)  # signs from then on
    reserved_for: Mapped[str | None] = mapped_column(String(16), nullable=True)  # "fapi2" or "resources": signs only for those


class ServerSecret(Base):
    """Server-generated keys (the HMAC key for stored secrets, the session key), made on first start;
    hex, or sealed when a secret key is set (``security/encryption.py``)."""

    __tablename__ = "server_secrets"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(255))


class WebSession(Base):
    __tablename__ = "web_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    auth_time: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    amr: Mapped[str | None] = mapped_column(String(64), nullable=True)
    """How the user signed in (RFC 8176 method names, space-separated); None for sessions before 0012."""
    user_agent: Mapped[str | None] = mapped_column(String(255), nullable=True)
    """The browser's ``User-Agent`` at sign-in, cut to 255 characters; None for sessions before 0013."""
    ip: Mapped[str | None] = mapped_column(String(64), nullable=True)
    """The client address at sign-in, as the app sees it (behind ``AUTHGATE_TRUSTED_PROXIES``: the forwarded one)."""
    last_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    """The last request seen with it, to the minute (written in the background, ``services/accounts/sessions/last_seen.py``)."""



class DeviceCode(Base):
    """A device authorization request (RFC 8628): pending until the user approves or denies it."""

    __tablename__ = "oauth_device_codes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    device_code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("oauth_clients.id", ondelete="CASCADE"), index=True)
    scope: Mapped[str] = mapped_column(Text, default="")
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), nullable=True)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    interval: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    last_polled_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    resources: Mapped[list | None] = mapped_column(JSON, nullable=True)


class Group(Base):
    __tablename__ = "groups"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(255), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default="ACTIVE")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class GroupMember(Base):
    __tablename__ = "group_members"
    __table_args__ = (UniqueConstraint("group_id", "member_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"), index=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    provider_id: Mapped[int | None] = mapped_column(ForeignKey("identity_providers.id", ondelete="SET NULL"),
                                                    nullable=True)
    """The upstream provider whose group mapping added the member (None: added by hand); only it takes it away."""
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class Permission(Base):
    """A named permission (``view-users``, ...); the catalog is written by migrations."""

    __tablename__ = "permissions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    title: Mapped[str] = mapped_column(String(255))
    category: Mapped[str] = mapped_column(String(64))


class UserPermission(Base):
    __tablename__ = "user_permissions"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    permission_id: Mapped[int] = mapped_column(ForeignKey("permissions.id", ondelete="CASCADE"), primary_key=True)


class GroupPermission(Base):
    __tablename__ = "group_permissions"

    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True)
    permission_id: Mapped[int] = mapped_column(ForeignKey("permissions.id", ondelete="CASCADE"), primary_key=True)


class AuditEvent(Base):
    """One entry of the security log (``services/operations/audit.py``); never holds a secret."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    event: Mapped[str] = mapped_column(String(64), index=True)
    actor_kind: Mapped[str | None] = mapped_column(String(32), nullable=True)
    user_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    client_id: Mapped[str | None] = mapped_column(String(512), nullable=True)
    subject: Mapped[str | None] = mapped_column(String(255), nullable=True)
    ip: Mapped[str | None] = mapped_column(String(64), nullable=True)
    request_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    details: Mapped[dict] = mapped_column(JSON, default=dict)


class Consent(Base):
    """A user's remembered "Authorize" for one client: the scopes they approved (the consent page is skipped
    while a request asks for no more than these)."""

    __tablename__ = "oauth_consents"
    __table_args__ = (UniqueConstraint("user_id", "client_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    client_id: Mapped[int] = mapped_column(ForeignKey("oauth_clients.id", ondelete="CASCADE"), index=True)
    scopes: Mapped[list] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class RevocationEvent(Base):
    """What was revoked, for the in-process caches of every worker (``services/caching/``).

    ``kind`` is ``jti`` (an access token), ``client`` (a deleted client's ``client_id``),
    ``client.changed`` (a changed client's ``client_id``), ``user`` (a changed user), ``pat`` (a personal
    access token's id), ``keys`` (a rotated key's ``kid``) or ``unlock`` (a user id whose sign-in
    lockout an administrator ended).
    """

    __tablename__ = "revocation_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    subject: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class ShownOnceSlot(Base):
    """A secret waiting for the one page that shows it (``services/operations/shown_once.py``): sealed under a key that only
    the browser's cookie holds, bound to one sign-in session, deleted when read and useless after ``expires_at``."""

    __tablename__ = "shown_once_slots"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_hash: Mapped[str] = mapped_column(String(64), index=True)
    sealed: Mapped[str] = mapped_column(Text)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class UserFactor(Base):
    """A user's second factor (``services/accounts/factors/factors.py``): a TOTP secret, sealed under ``AUTHGATE_SECRET_KEY`` when
    set; unconfirmed until a first code proves the authenticator has it. ``last_step`` is the TOTP time step of
    the last code accepted, so a code is good once."""

    __tablename__ = "user_factors"
    __table_args__ = (UniqueConstraint("user_id", "kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    secret: Mapped[str] = mapped_column(Text)
    last_step: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class RecoveryCode(Base):
    """A one-time recovery code, by keyed hash; ``used_at`` once spent."""

    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class PendingSignIn(Base):
    """A password accepted, the second step still to come: not a session, it opens nothing but the second-step
    page, for ``expires_at`` at most, and is deleted when that step succeeds."""

    __tablename__ = "pending_sign_ins"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    pending_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    first_amr: Mapped[str | None] = mapped_column(String(64), nullable=True)
    """How the first step was made (``amr``, space-separated); empty: a password."""


class FactorPolicy(Base):
    """Who must have a second factor (``services/accounts/factors/factor_policy.py``): one row, ``require`` one of ``off``,
    ``everyone``, ``administrators``, ``groups`` (the members of ``factor_policy_groups``); no row is ``off``."""

    __tablename__ = "factor_policy"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    require: Mapped[str] = mapped_column(String(16))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class FactorPolicyGroup(Base):
    """A group whose members the policy covers when it requires ``groups``; a deleted group drops out."""

    __tablename__ = "factor_policy_groups"

    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True)


class Passkey(Base):
    """A WebAuthn credential (``services/accounts/factors/passkeys.py``): its id and public key (COSE, base64url) as the
    authenticator gave them at registration, the user handle it stores with a discoverable credential, and the
    signature counter last seen. Nothing here is secret: the private key never leaves the authenticator."""

    __tablename__ = "passkeys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    credential_id: Mapped[str] = mapped_column(String(1400), unique=True)
    user_handle: Mapped[str] = mapped_column(String(64))
    public_key: Mapped[str] = mapped_column(Text)
    sign_count: Mapped[int] = mapped_column(BigInteger, default=0)
    name: Mapped[str] = mapped_column(String(64))
    transports: Mapped[str] = mapped_column(String(128), default="")
    backed_up: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class WebAuthnChallenge(Base):
    """A challenge handed to a browser for one ceremony (``purpose``: register, sign-in, second-step), by keyed
    hash; ``user_id`` the user it was made for (none for a sign-in by passkey alone). Deleted when used."""

    __tablename__ = "webauthn_challenges"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    challenge_hash: Mapped[str] = mapped_column(String(64), unique=True)
    purpose: Mapped[str] = mapped_column(String(16))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), nullable=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class InitialAccessToken(Base):
    """An RFC 7591 §3 initial access token an operator made (``authgate registration token create``), by keyed
    hash: it lets ``uses_allowed`` registrations (None: any number) until ``expires_at`` (None: never)."""

    __tablename__ = "registration_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True, index=True)
    uses_allowed: Mapped[int | None] = mapped_column(Integer, nullable=True)
    uses: Mapped[int] = mapped_column(Integer, default=0)


class ResourceServer(Base):
    """An API that tokens are issued for (RFC 8707): its identifier is the tokens' ``aud``."""

    __tablename__ = "resource_servers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    identifier: Mapped[str] = mapped_column(String(2000), unique=True)
    name: Mapped[str] = mapped_column(String(255))
    scopes: Mapped[list] = mapped_column(JSON, default=list)
    access_token_ttl: Mapped[int | None] = mapped_column(Integer, nullable=True)
    """Seconds its access tokens live; None: ``AUTHGATE_ACCESS_TOKEN_TTL``."""
    introspection: Mapped[bool] = mapped_column(Boolean, default=True)
    """Whether introspection describes its tokens (otherwise ``{"active": false}``)."""
    signing_alg: Mapped[str] = mapped_column(String(16), default="RS256", server_default="RS256")
    """The algorithm its access tokens are signed with (RFC 9068 §2.1: RS256 unless it opts in to another)."""
    builtin: Mapped[bool] = mapped_column(Boolean, default=False)
    """authgate's own API: made at start, kept in step with the issuer, never deleted."""
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class LogoutDelivery(Base):
    """A logout token owed to a client's ``backchannel_logout_uri`` (OpenID Back-Channel Logout 1.0), queued when a
    session ends and posted by the serving process's background thread; deleted once delivered or given up."""

    __tablename__ = "logout_deliveries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("oauth_clients.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(Integer)
    session_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    """The ended ``web_sessions`` record (the token's ``sid``); None: every session of the user (``sub`` only)."""
    jti: Mapped[str] = mapped_column(String(64))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AccountLink(Base):
    """A link mailed to a user (``services/accounts/email_links/account_links.py``): reset the password, verify the address,
    accept an invitation. Found by the keyed hash of its token; good once (``used_at``) until ``expires_at``; a
    verification is for the ``email`` it was sent to."""

    __tablename__ = "account_links"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    purpose: Mapped[str] = mapped_column(String(16))
    email: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class PushedAuthorizationRequest(Base):
    """An authorization request a client pushed (RFC 9126), by keyed hash of its ``request_uri``: its parameters
    as (name, value) pairs, for that client only. ``expires_at`` is ``AUTHGATE_PAR_SECONDS`` after the push until
    the first use at ``/oauth/authorize`` (``first_used_at``), which gives the authorization that long to finish;
    a request object sent to ``/oauth/authorize`` is kept the same way (``front_channel``) once verified.
    ``sign_in_after`` is the instant a sign-in it asked for (``prompt=login``, ``max_age``) must follow. Deleted
    when the authorization ends."""

    __tablename__ = "pushed_authorization_requests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_uri_hash: Mapped[str] = mapped_column(String(64), unique=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("oauth_clients.id", ondelete="CASCADE"), index=True)
    parameters: Mapped[list] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    first_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    sign_in_after: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    front_channel: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    """Not pushed: a request object (RFC 9101) sent through the browser, kept for the authorization's round trips."""


class IdentityProvider(Base):
    """An upstream OpenID Connect provider people may sign in with (``services/federation/``): found by discovery
    of ``issuer``. ``client_secret`` is sealed under ``AUTHGATE_SECRET_KEY`` when one is set (``security/encryption.py``,
    context ``identity_providers:<name>``), in clear otherwise, as the server secrets are: authgate must send it."""

    __tablename__ = "identity_providers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(16), default="oidc")
    issuer: Mapped[str] = mapped_column(String(2000))
    client_id: Mapped[str] = mapped_column(String(512))
    client_secret: Mapped[str] = mapped_column(Text)
    scopes: Mapped[list] = mapped_column(JSON, default=list)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    allow_jit: Mapped[bool] = mapped_column(Boolean, default=False)
    """A first sign-in that matches no local user creates one."""
    link_verified_email: Mapped[bool] = mapped_column(Boolean, default=False)
    """A first sign-in whose ``email_verified`` is true links to the local user with that address."""
    allow_private_network: Mapped[bool] = mapped_column(Boolean, default=False)
    """Its URLs may resolve to private or loopback addresses (a company IdP inside the network)."""
    directory: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    """An LDAP directory's (kind ``ldap``; ``services/directory/``): where its users and groups are, and the
    mapping of its groups to local ones. For that kind ``issuer`` is the ``ldap://`` URL, ``client_id`` the
    service bind DN and ``client_secret`` its password."""
    authorization_url: Mapped[str | None] = mapped_column(String(2000), nullable=True)
    """A plain OAuth 2.0 provider's (kind ``oauth2``, no discovery): where the browser is sent."""
    token_url: Mapped[str | None] = mapped_column(String(2000), nullable=True)
    userinfo_url: Mapped[str | None] = mapped_column(String(2000), nullable=True)
    """A plain OAuth 2.0 provider's: read with the upstream access token, the identity's only source."""
    claim_mapping: Mapped[dict] = mapped_column(JSON, default=dict)
    """Which upstream claim fills each part of the identity (``subject``, ``username``, ...; ``groups``), where
    it is not the standard one."""
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class ProviderGroupMapping(Base):
    """An upstream group (a value of the provider's groups claim) that makes its members members of an authgate
    group; the groups a provider maps are the ones its sign-ins manage (joined and left)."""

    __tablename__ = "provider_group_mappings"
    __table_args__ = (UniqueConstraint("provider_id", "upstream_group", "group_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("identity_providers.id", ondelete="CASCADE"), index=True)
    upstream_group: Mapped[str] = mapped_column(String(255))
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"), index=True)


class FederatedIdentity(Base):
    """A local user's account at an upstream provider: the provider's ``sub`` is stable and unique per provider
    (OpenID Connect Core §2), so the pair names the person, whatever their email does later."""

    __tablename__ = "federated_identities"
    __table_args__ = (UniqueConstraint("provider_id", "subject"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("identity_providers.id", ondelete="CASCADE"), index=True)
    subject: Mapped[str] = mapped_column(String(255))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    email: Mapped[str | None] = mapped_column(String(255), nullable=True)
    """The address the provider gave at the last sign-in (shown, never used to find the user)."""
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class FederatedSignIn(Base):
    """A round trip to an upstream provider under way, by keyed hash of its ``state``; the PKCE verifier and the
    ``nonce`` sealed under a key derived from the state (``security/sealing.py``), which only the browser holds (in
    a cookie and in the upstream's redirect): a database copy cannot finish it. Deleted at the callback."""

    __tablename__ = "federated_sign_ins"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    state_hash: Mapped[str] = mapped_column(String(64), unique=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("identity_providers.id", ondelete="CASCADE"), index=True)
    sealed: Mapped[str] = mapped_column(Text)
    next_url: Mapped[str] = mapped_column(Text)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
