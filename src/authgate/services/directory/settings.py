"""The settings of an LDAP directory provider, checked: its URL, where its users and groups are, and which of its
groups stand for which local groups.

The user filter names the typed username ``{username}``; the group filter the user's DN ``{dn}`` (and may use
``{username}``). Both are substituted escaped (RFC 4515 §3), never as given."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from authgate.services.errors import Invalid

LDAP = "ldap"
DEFAULT_USER_FILTER = "(uid={username})"
DEFAULT_GROUP_FILTER = "(member={dn})"


@dataclass(frozen=True)
class DirectoryView:
    """An LDAP provider as the sign-in reads it, bind password opened. Its group mapping is every provider's
    (``provider_group_mappings``, applied by ``ProviderService.sync_groups``)."""

    id: int
    name: str
    url: str
    bind_dn: str
    bind_password: str
    user_base: str
    user_filter: str
    group_base: str | None
    group_filter: str
    allow_jit: bool
    link_verified_email: bool
    kind: str = LDAP


def url_problem(url: object) -> str | None:
    if not isinstance(url, str) or not url or len(url) > 2000:
        return "the directory URL must be an ldap:// or ldaps:// URL of at most 2000 characters"
    try:
        parts = urlsplit(url)
        parts.port
    except ValueError:
        return f"{url!r} is not a valid URL"
    if parts.scheme not in ("ldap", "ldaps") or not parts.hostname or parts.path not in ("", "/") \
            or parts.query or parts.fragment or parts.username:
        return "the directory URL must be ldap://HOST[:PORT] or ldaps://HOST[:PORT], with nothing after it"
    return None


def _text(values: dict, key: str, required: bool, limit: int = 1000) -> str | None:
    value = values.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise Invalid(f"{key} is required for an LDAP directory", field=key)
        return None
    if not isinstance(value, str) or len(value) > limit or any(ord(c) < 0x20 for c in value):
        raise Invalid(f"{key} must be at most {limit} printable characters", field=key)
    return value.strip()


def _filter(value: str, placeholder: str, field: str) -> str:
    if placeholder not in value or not (value.startswith("(") and value.endswith(")")) \
            or value.count("(") != value.count(")"):
        raise Invalid(f"{field} must be an LDAP filter in parentheses containing {placeholder}", field=field)
    return value


def checked_directory(values: dict) -> dict:
    """The ``directory`` column for these settings; ``Invalid`` on the field at fault."""
    user_base = _text(values, "user_base", required=True)
    user_filter = _filter(_text(values, "user_filter", False) or DEFAULT_USER_FILTER, "{username}", "user_filter")
    group_base = _text(values, "group_base", required=False)
    group_filter = _text(values, "group_filter", False) or DEFAULT_GROUP_FILTER
    if "{dn}" not in group_filter and "{username}" not in group_filter:
        raise Invalid("group_filter must contain {dn} or {username}", field="group_filter")
    _filter(group_filter, "{dn}" if "{dn}" in group_filter else "{username}", "group_filter")
    return {"user_base": user_base, "user_filter": user_filter, "group_base": group_base,
            "group_filter": group_filter}
