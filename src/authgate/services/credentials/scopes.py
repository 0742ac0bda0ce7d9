"""The scopes authgate knows, in words for the consent page, and the rules for asking for them."""

from __future__ import annotations

from authgate.services.errors import Invalid

ALL = "*"

DESCRIPTIONS: dict[str, str] = {
    ALL: "Do everything you can do in the API",
    "openid": "Know who you are (sign you in)",
    "profile": "See your name and username",
    "email": "See your email address",
    "offline_access": "Keep access while you are away (refresh tokens)",
    "users:read": "Read users and your own profile",
    "users:write": "Create, change and delete users",
    "groups:read": "Read groups, their members and permissions",
    "groups:write": "Create, change and delete groups and their members",
    "clients:read": "Read client applications",
    "clients:write": "Register, change and delete client applications",
    "tokens:read": "Read your personal access tokens and authorized applications",
    "tokens:write": "Create and revoke personal access tokens; revoke authorized applications",
    "security_logs:read": "Read the security log (administrators)",
    "security:read": "Read the sign-in security policy (administrators)",
    "security:write": "Change the sign-in security policy (administrators)",
}

KNOWN = frozenset(DESCRIPTIONS)


def parse(scope: str | None) -> list[str]:
    """Split a space-separated scope string into unique names, in the order given."""
    return list(dict.fromkeys((scope or "").split()))


def join(scopes: list[str]) -> str:
    return " ".join(scopes)


def check_known(scopes: list[str]) -> None:
    unknown = [s for s in scopes if s not in KNOWN]
    if unknown:
        raise Invalid(f"unknown scope: {', '.join(unknown)}; known scopes: {', '.join(sorted(KNOWN))}")


def grants(token_scopes: list[str] | str, needed: str) -> bool:
    """True when a token with ``token_scopes`` may do what ``needed`` names (``*`` covers API scopes)."""
    held = parse(token_scopes) if isinstance(token_scopes, str) else token_scopes
    return needed in held or (ALL in held and ":" in needed)


def within(requested: list[str], held: list[str] | tuple[str, ...]) -> bool:
    """True when a token holding ``held`` may hand out ``requested`` (a new token never outranks its maker)."""
    return all(s in held or (s != ALL and grants(list(held), s)) for s in requested)


def allowed_for_client(requested: list[str], client_scopes: list[str]) -> bool:
    """A client with no scope list may ask for any known scope; otherwise only for its own."""
    if any(s not in KNOWN for s in requested):
        return False
    return not client_scopes or all(s in client_scopes for s in requested)


def allows_refresh(scopes: list[str]) -> bool:
    """An OpenID Connect request gets a refresh token only with ``offline_access`` (OIDC Core §11)."""
    return "openid" not in scopes or "offline_access" in scopes


def default_for_client(client_scopes: list[str]) -> list[str]:
    return list(client_scopes) if client_scopes else [ALL]


def describe(scopes: list[str]) -> list[tuple[str, str]]:
    return [(s, DESCRIPTIONS.get(s, s)) for s in scopes]
