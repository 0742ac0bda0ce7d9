"""Every setting authgate reads, in one place, from ``AUTHGATE_*`` environment variables."""

from __future__ import annotations

import ipaddress
import os
from urllib.parse import parse_qs, unquote, urlsplit
from dataclasses import dataclass, field
from functools import lru_cache

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
# argon2id as the OWASP Password Storage Cheat Sheet sets its floor (m=19 MiB, t=2, p=1): ~45 ms a
# hash here, no slower than the peers' own defaults (docs/performance.md), 19 MiB per hash in flight.
ARGON2_TIME_COST = 2
ARGON2_MEMORY_KIB = 19456


def _int(name: str, default: int, minimum: int = 1) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a whole number, not {raw!r}") from None
    if value < minimum:
        raise SettingsError(f"{name} must be at least {minimum}, not {value}")
    return value


class SettingsError(ValueError):
    """A setting in the environment has a value authgate cannot use."""


@dataclass(frozen=True)
class Rate:
    """At most ``count`` events per ``seconds``."""

    count: int
    seconds: int


def _rate(name: str, default: str) -> Rate | None:
    """``N/SECONDS`` (e.g. ``30/60``); ``off`` or ``0`` turns the limit off."""
    raw = (os.environ.get(name) or default).strip().lower()
    if raw in ("off", "0"):
        return None
    count, _, seconds = raw.partition("/")
    try:
        rate = Rate(int(count), int(seconds))
    except ValueError:
        raise SettingsError(f"{name} must look like 30/60 (30 per 60 seconds) or off, not {raw!r}") from None
    if rate.count <= 0 or rate.seconds <= 0:
        raise SettingsError(f"{name} must have a positive count and period, not {raw!r}")
    return rate


def _networks(name: str) -> tuple[str, ...]:
    """Comma-separated IP addresses or CIDR networks (``10.0.0.5, 10.1.0.0/16``); none by default."""
    entries = [entry.strip() for entry in (os.environ.get(name) or "").split(",") if entry.strip()]
    for entry in entries:
        try:
            ipaddress.ip_network(entry, strict=False)
        except ValueError:
            raise SettingsError(f"{name} must list IP addresses or networks (10.0.0.5,10.1.0.0/16), not {entry!r}") from None
    return tuple(entries)


MIN_SECRET_KEY_LENGTH = 32
REGISTRATION_SCOPES = "openid profile email offline_access"


def _secret(name: str) -> str | None:
    """``NAME`` or the first line of the file named by ``NAME_FILE`` (not both): a secret key."""
    value, path = os.environ.get(name) or None, os.environ.get(name + "_FILE") or None
    if value and path:
        raise SettingsError(f"set {name} or {name}_FILE, not both")
    if path:
        try:
            with open(path, encoding="utf-8") as f:
                value = f.readline().strip()
        except (OSError, UnicodeDecodeError) as error:
            raise SettingsError(f"{name}_FILE {path!r} cannot be read ({type(error).__name__})") from None
    if value is not None and len(value) < MIN_SECRET_KEY_LENGTH:
        raise SettingsError(
            f"{name} must be at least {MIN_SECRET_KEY_LENGTH} random characters; make one with "
            "python3 -c 'import secrets; print(secrets.token_urlsafe(32))'")
    return value


REGISTRATION_MODES = ("off", "open", "token")
REGISTRATION_GRANTS = {"authorization_code": "authorization_code", "refresh_token": "refresh_token",
                       "client_credentials": "client_credentials", "device_code": "device_code",
                       "urn:ietf:params:oauth:grant-type:device_code": "device_code"}
"""The grants a self-registered client may ever be given (never the password grant or a personal access client)."""


def _choice(name: str, default: str, choices: tuple[str, ...]) -> str:
    value = (os.environ.get(name) or default).strip().lower()
    if value not in choices:
        raise SettingsError(f"{name} must be one of {', '.join(choices)}, not {value!r}")
    return value


def _words(name: str, default: str) -> tuple[str, ...]:
    """Names separated by spaces or commas; empty means the default."""
    raw = (os.environ.get(name) or default).replace(",", " ")
    return tuple(dict.fromkeys(raw.split()))


def _registration_grants(name: str, default: str) -> tuple[str, ...]:
    words = _words(name, default)
    unknown = [w for w in words if w not in REGISTRATION_GRANTS]
    if unknown or not words:
        raise SettingsError(f"{name} may name only {', '.join(sorted(set(REGISTRATION_GRANTS.values())))}, "
                            f"not {' '.join(unknown) or 'nothing'}")
    return tuple(dict.fromkeys(REGISTRATION_GRANTS[w] for w in words))


def _flag(name: str) -> bool:
    return (os.environ.get(name) or "").strip().lower() in ("1", "true", "yes", "on")


@dataclass(frozen=True)
class SmtpServer:
    """Where mail goes: ``smtp://user:pass@host:port`` (plain, or ``?starttls=1`` to upgrade with STARTTLS) or
    ``smtps://...`` (TLS from the first byte); ``cafile`` trusts a private CA besides the system's."""

    host: str
    port: int
    implicit_tls: bool
    starttls: bool
    username: str | None
    password: str | None = field(repr=False)
    timeout: int = 10
    cafile: str | None = None


@dataclass(frozen=True)
class MailSettings:
    """Email (``AUTHGATE_SMTP_URL`` and friends): without ``smtp`` no mail is sent, and the pages say so."""

    smtp: SmtpServer | None
    sender: str
    templates: str | None
    reset_link_seconds: int
    verify_link_seconds: int
    invite_link_seconds: int
    forgot_per_ip: Rate | None
    forgot_per_account: Rate | None


SMTP_PORTS = {"smtp": 25, "smtps": 465}


def _smtp(name: str) -> SmtpServer | None:
    raw = (os.environ.get(name) or "").strip()
    if not raw:
        return None
    shape = "smtp://user:password@host:587?starttls=1 or smtps://user:password@host:465"
    try:
        parts = urlsplit(raw)
        port = parts.port
    except ValueError:
        raise SettingsError(f"{name} must look like {shape}") from None
    if parts.scheme not in SMTP_PORTS or not parts.hostname:
        raise SettingsError(f"{name} must look like {shape}, not a {parts.scheme or 'schemeless'} URL")
    query = {key: values[-1].strip().lower() for key, values in parse_qs(parts.query).items()}
    starttls = query.pop("starttls", "0") in ("1", "true", "yes", "on")
    timeout = query.pop("timeout", "10")
    cafile = next(iter(parse_qs(parts.query).get("cafile", [])[-1:]), None)
    query.pop("cafile", None)
    if query or not timeout.isdigit() or int(timeout) < 1:
        raise SettingsError(f"{name} knows only ?starttls=1, &timeout=SECONDS and &cafile=PATH")
    if cafile is not None and not os.path.isfile(cafile):
        raise SettingsError(f"{name}: cafile {cafile!r} is not a file")
    if starttls and parts.scheme == "smtps":
        raise SettingsError(f"{name}: smtps:// is TLS already; starttls=1 is for smtp://")
    return SmtpServer(
        host=parts.hostname, port=port or (587 if starttls else SMTP_PORTS[parts.scheme]),
        implicit_tls=parts.scheme == "smtps", starttls=starttls,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password is not None else None, timeout=int(timeout),
        cafile=cafile)


def _directory(name: str) -> str | None:
    raw = os.environ.get(name) or None
    if raw is not None and not os.path.isdir(raw):
        raise SettingsError(f"{name} {raw!r} is not a directory")
    return os.path.abspath(raw) if raw else None


def _ca_file(name: str) -> str | None:
    """A readable PEM file of CA certificates, checked now rather than at the first fetch."""
    raw = os.environ.get(name) or None
    if raw is None:
        return None
    if not os.path.isfile(raw):
        raise SettingsError(f"{name} {raw!r} is not a file")
    import ssl

    try:
        ssl.create_default_context().load_verify_locations(cafile=raw)
    except (ssl.SSLError, OSError, ValueError):
        raise SettingsError(f"{name} {raw!r} holds no PEM certificate a TLS client can trust") from None
    return os.path.abspath(raw)


def _mail(issuer: str) -> MailSettings:
    sender = (os.environ.get("AUTHGATE_MAIL_FROM") or "").strip() or f"authgate@{urlsplit(issuer).hostname or 'localhost'}"
    if "@" not in sender or "\n" in sender or "\r" in sender:
        raise SettingsError(f"AUTHGATE_MAIL_FROM must be an address, such as authgate@example.org or "
                            f"'authgate <authgate@example.org>', not {sender!r}")
    return MailSettings(
        smtp=_smtp("AUTHGATE_SMTP_URL"),
        sender=sender,
        templates=_directory("AUTHGATE_MAIL_TEMPLATES"),
        reset_link_seconds=_int("AUTHGATE_RESET_LINK_SECONDS", 1800),
        verify_link_seconds=_int("AUTHGATE_VERIFY_LINK_SECONDS", 24 * 3600),
        invite_link_seconds=_int("AUTHGATE_INVITE_LINK_SECONDS", 7 * 24 * 3600),
        forgot_per_ip=_rate("AUTHGATE_LIMIT_FORGOT_PER_IP", "10/900"),
        forgot_per_account=_rate("AUTHGATE_LIMIT_FORGOT_PER_ACCOUNT", "3/900"),
    )


@dataclass(frozen=True)
class Settings:
    database_url: str
    home: str
    issuer: str
    auth_code_ttl: int
    access_token_ttl: int
    refresh_token_ttl: int
    refresh_grace_seconds: int
    personal_token_ttl: int
    admin_password: str | None
    argon2_time_cost: int
    argon2_memory_kib: int
    session_ttl: int
    shown_once_seconds: int
    pending_sign_in_seconds: int
    webauthn_challenge_seconds: int
    database_pool_size: int
    redis_url: str | None
    redis_prefix: str
    login_rate_per_ip: Rate | None
    token_rate_per_ip: Rate | None
    token_rate_per_client: Rate | None
    client_auth_failures_per_ip: Rate | None
    lockout: Rate | None
    device_rate_per_ip: Rate | None
    device_codes_per_ip: Rate | None
    device_codes_per_client: Rate | None
    password_grant_enabled: bool
    password_min_length: int
    password_blocklist: str | None
    development: bool
    device_code_ttl: int
    device_poll_interval: int
    revocation_poll_seconds: float
    purge_interval: int
    log_format: str
    access_log: bool
    trusted_proxies: tuple[str, ...]
    key_publish_ahead: int
    dpop_proof_seconds: int
    """How old a DPoP proof may be (its ``iat``), and how long its ``jti`` is remembered (RFC 9449 §11.1)."""
    dpop_nonces: bool
    """The token endpoint asks for a server nonce in every DPoP proof (RFC 9449 §8)."""
    dpop_nonce_seconds: int
    par_seconds: int
    """How long a pushed authorization request's ``request_uri`` may wait for its first use (RFC 9126 §2.2)."""
    require_par: bool
    """Every client must push its authorization requests (RFC 9126 §5 ``require_pushed_authorization_requests``)."""
    require_request_object: bool
    """Every client must send its authorization requests as signed request objects (RFC 9101 §10.5
    ``require_signed_request_object``)."""
    profile: str | None
    """The security profile every client is held to: ``fapi2`` (FAPI 2.0 Security Profile), or None."""
    registration_mode: str
    registrations_per_ip: Rate | None
    registration_grants: tuple[str, ...]
    registration_scopes: tuple[str, ...]
    registration_default_scopes: tuple[str, ...]
    registration_secret_seconds: int
    fetch_allow_private: bool
    """Let the safe fetcher (``jwks_uri``, Client ID Metadata Documents) reach private and loopback addresses,
    and plain http on loopback: for tests and closed networks only, unsafe facing the internet."""
    fetch_ca_file: str | None
    """A PEM bundle of certificate authorities the safe fetcher trusts besides the default ones (``AUTHGATE_FETCH_CA_FILE``)."""
    cimd: bool
    """Accept an https ``client_id`` URL as a Client ID Metadata Document (``AUTHGATE_CIMD=on``)."""
    cimd_allow_domains: tuple[str, ...]
    cimd_deny_domains: tuple[str, ...]
    secret_key: str | None = field(repr=False)
    old_secret_key: str | None = field(repr=False)
    mail: MailSettings

    @property
    def secure_cookies(self) -> bool:
        return self.issuer.startswith("https://")


LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")


def is_loopback(host: str | None) -> bool:
    return host in LOOPBACK_HOSTS or bool(host and host.startswith("127."))


def insecure_reasons(settings: Settings, bind_host: str) -> list[str]:
    """What makes this configuration unfit outside development, each with what to do about it."""
    reasons = []
    issuer = urlsplit(settings.issuer)
    if issuer.scheme != "https" and not is_loopback(issuer.hostname):
        reasons.append(
            f"AUTHGATE_ISSUER is {settings.issuer}: tokens, codes and passwords would cross the network in clear. "
            "Serve authgate behind TLS and set AUTHGATE_ISSUER=https://your.host"
        )
    if issuer.scheme not in ("http", "https") or not issuer.hostname:
        reasons.append(f"AUTHGATE_ISSUER is {settings.issuer!r}: it must be an absolute http(s) URL")
    if not is_loopback(bind_host) and issuer.scheme != "https":
        reasons.append(
            f"--host {bind_host} exposes a plain-http issuer beyond this machine: set AUTHGATE_ISSUER to the "
            "https URL your TLS proxy serves"
        )
    return reasons


def home() -> str:
    """Where authgate keeps its own files (the default SQLite database): ``AUTHGATE_HOME``, else the
    per-user data directory (``$XDG_DATA_HOME/authgate``, ``~/.local/share/authgate``), never the
    working directory, so every command finds the database the server uses."""
    explicit = os.environ.get("AUTHGATE_HOME")
    if explicit:
        return os.path.abspath(os.path.expanduser(explicit))
    data = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
    return os.path.join(os.path.abspath(data), "authgate")


def default_database_url() -> str:
    return "sqlite:///" + os.path.join(home(), "authgate.db")


def default_issuer_host(host: str) -> str:
    return "localhost" if host in ("127.0.0.1", "::1") else host


def load(host: str = DEFAULT_HOST, port: int = DEFAULT_PORT) -> Settings:
    """Read the environment; ``host``/``port`` only shape the default issuer, which names a loopback address
    ``localhost``: browsers refuse WebAuthn (passkeys) on an IP address, whose host is no valid RP ID."""
    issuer = os.environ.get("AUTHGATE_ISSUER") or f"http://{default_issuer_host(host)}:{port}"
    return Settings(
        database_url=os.environ.get("AUTHGATE_DATABASE_URL") or default_database_url(),
        home=home(),
        issuer=issuer.rstrip("/"),
        auth_code_ttl=_int("AUTHGATE_AUTH_CODE_TTL", 600),
        access_token_ttl=_int("AUTHGATE_ACCESS_TOKEN_TTL", 3600),
        refresh_token_ttl=_int("AUTHGATE_REFRESH_TOKEN_TTL", 30 * 24 * 3600),
        refresh_grace_seconds=_int("AUTHGATE_REFRESH_GRACE_SECONDS", 10, minimum=0),
        personal_token_ttl=_int("AUTHGATE_PERSONAL_TOKEN_TTL", 365 * 24 * 3600),
        admin_password=os.environ.get("AUTHGATE_ADMIN_PASSWORD") or None,
        argon2_time_cost=_int("AUTHGATE_ARGON2_TIME_COST", ARGON2_TIME_COST),
        argon2_memory_kib=_int("AUTHGATE_ARGON2_MEMORY_KIB", ARGON2_MEMORY_KIB),
        session_ttl=_int("AUTHGATE_SESSION_TTL", 8 * 3600),
        shown_once_seconds=_int("AUTHGATE_SHOWN_ONCE_SECONDS", 300),
        pending_sign_in_seconds=_int("AUTHGATE_PENDING_SIGN_IN_SECONDS", 300),
        webauthn_challenge_seconds=_int("AUTHGATE_WEBAUTHN_CHALLENGE_SECONDS", 300),
        database_pool_size=_int("AUTHGATE_DATABASE_POOL_SIZE", 10),
        redis_url=os.environ.get("AUTHGATE_REDIS_URL") or None,
        redis_prefix=os.environ.get("AUTHGATE_REDIS_PREFIX") or "authgate:",
        login_rate_per_ip=_rate("AUTHGATE_LIMIT_LOGIN_PER_IP", "30/300"),
        token_rate_per_ip=_rate("AUTHGATE_LIMIT_TOKEN_PER_IP", "3000/60"),
        token_rate_per_client=_rate("AUTHGATE_LIMIT_TOKEN_PER_CLIENT", "1200/60"),
        client_auth_failures_per_ip=_rate("AUTHGATE_LIMIT_CLIENT_AUTH_FAILURES_PER_IP", "30/60"),
        lockout=_rate("AUTHGATE_LOCKOUT", "10/900"),
        device_rate_per_ip=_rate("AUTHGATE_LIMIT_DEVICE_PER_IP", "20/300"),
        device_codes_per_ip=_rate("AUTHGATE_LIMIT_DEVICE_CODES_PER_IP", "30/300"),
        device_codes_per_client=_rate("AUTHGATE_LIMIT_DEVICE_CODES_PER_CLIENT", "600/60"),
        password_grant_enabled=not _flag("AUTHGATE_DISABLE_PASSWORD_GRANT"),
        password_min_length=_int("AUTHGATE_PASSWORD_MIN_LENGTH", 8),
        password_blocklist=os.environ.get("AUTHGATE_PASSWORD_BLOCKLIST") or None,
        development=_flag("AUTHGATE_DEV"),
        device_code_ttl=_int("AUTHGATE_DEVICE_CODE_TTL", 600),
        device_poll_interval=_int("AUTHGATE_DEVICE_POLL_INTERVAL", 5),
        revocation_poll_seconds=_int("AUTHGATE_REVOCATION_POLL_MS", 500, minimum=50) / 1000,
        purge_interval=_int("AUTHGATE_PURGE_INTERVAL", 900, minimum=0),
        log_format=(os.environ.get("AUTHGATE_LOG_FORMAT") or "json").strip().lower(),
        access_log=_flag("AUTHGATE_ACCESS_LOG"),
        trusted_proxies=_networks("AUTHGATE_TRUSTED_PROXIES"),
        key_publish_ahead=_int("AUTHGATE_KEY_PUBLISH_AHEAD", 300, minimum=0),
        dpop_proof_seconds=_int("AUTHGATE_DPOP_PROOF_SECONDS", 120),
        dpop_nonces=_flag("AUTHGATE_DPOP_NONCES"),
        dpop_nonce_seconds=_int("AUTHGATE_DPOP_NONCE_SECONDS", 300, minimum=10),
        par_seconds=_int("AUTHGATE_PAR_SECONDS", 60),
        require_par=_flag("AUTHGATE_REQUIRE_PAR"),
        require_request_object=_flag("AUTHGATE_REQUIRE_SIGNED_REQUEST_OBJECT"),
        profile={"none": None, "fapi2": "fapi2"}[_choice("AUTHGATE_PROFILE", "none", ("none", "fapi2"))],
        registration_mode=_choice("AUTHGATE_REGISTRATION", "off", REGISTRATION_MODES),
        registrations_per_ip=_rate("AUTHGATE_LIMIT_REGISTRATIONS_PER_IP", "10/3600"),
        registration_grants=_registration_grants("AUTHGATE_REGISTRATION_GRANTS", "authorization_code refresh_token"),
        registration_scopes=_words("AUTHGATE_REGISTRATION_SCOPES", REGISTRATION_SCOPES),
        registration_default_scopes=_words("AUTHGATE_REGISTRATION_DEFAULT_SCOPES",
                                           os.environ.get("AUTHGATE_REGISTRATION_SCOPES") or REGISTRATION_SCOPES),
        registration_secret_seconds=_int("AUTHGATE_REGISTRATION_SECRET_SECONDS", 0, minimum=0),
        fetch_allow_private=_flag("AUTHGATE_FETCH_ALLOW_PRIVATE"),
        fetch_ca_file=_ca_file("AUTHGATE_FETCH_CA_FILE"),
        cimd=_choice("AUTHGATE_CIMD", "off", ("off", "on")) == "on",
        cimd_allow_domains=tuple(d.lower().lstrip(".") for d in _words("AUTHGATE_CIMD_ALLOW_DOMAINS", "")),
        cimd_deny_domains=tuple(d.lower().lstrip(".") for d in _words("AUTHGATE_CIMD_DENY_DOMAINS", "")),
        secret_key=_secret("AUTHGATE_SECRET_KEY"),
        old_secret_key=_secret("AUTHGATE_OLD_SECRET_KEY"),
        mail=_mail(issuer),
    )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return load(
        os.environ.get("AUTHGATE_HOST", DEFAULT_HOST),
        int(os.environ.get("AUTHGATE_PORT", DEFAULT_PORT)),
    )
