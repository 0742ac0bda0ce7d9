"""The search and bind against an LDAP directory (python-ldap, the optional extra ``ldap``).

``verify`` binds as the service account, searches the user with the typed username escaped into the filter
(RFC 4515 §3: ``*`` ``(`` ``)`` ``\\`` and NUL cannot change the filter), then binds as the DN found with the typed
password (RFC 4513 §5.1.2: a simple bind with an empty password is an unauthenticated bind, which succeeds: an empty
password is never sent), then reads the user's groups with the service account. An entry is linked by its stable
id (``STABLE_IDS``), never by its DN, which a later entry may have: a directory without one is ``Unreachable``. A
search that finds no entry or more than one is a wrong password, as a refused bind is. A directory that cannot be
reached or answers with an error is ``Unreachable``: its reason goes to the audit log, the person sees a plain
sentence.

Every step waits at most ``TIMEOUT_SECONDS``. The connection is opened asynchronously (``OPT_CONNECT_ASYNC``):
libldap's blocking connect does an ldaps:// TLS handshake that ignores the network timeout (with GnuTLS it spins
on a server that accepts and never answers), while the asynchronous one waits for it within the timeout."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from authgate.services.directory.settings import DirectoryView

TIMEOUT_SECONDS = 5
STABLE_IDS = ("entryUUID", "objectGUID", "nsUniqueId", "GUID")
"""An entry's id that outlives renames and is never given to another entry: RFC 4530's, Active Directory's, 389 DS's
(and FreeIPA's), eDirectory's. A DN is none of these: the next person hired gets a former one's."""
USER_ATTRIBUTES = [*STABLE_IDS, "uid", "mail", "givenName", "sn"]
NO_STABLE_ID = ("its entries have no stable id to link them by (entryUUID, objectGUID, nsUniqueId or GUID) "
                "readable by the service account")


@dataclass(frozen=True)
class DirectoryUser:
    """The entry the password was right for: ``subject`` is its stable id (``STABLE_IDS``: the first it has, binary
    ones as a UUID), never its DN."""

    dn: str
    subject: str
    username: str
    email: str | None
    given_name: str
    family_name: str
    groups: frozenset[str]


@dataclass(frozen=True)
class Unreachable:
    reason: str


def _first(entry: dict, name: str) -> str | None:
    for key, values in entry.items():
        if key.lower() == name.lower() and values:
            return values[0].decode("utf-8", "replace")
    return None


def _stable_id(entry: dict) -> str | None:
    for name in STABLE_IDS:
        for key, values in entry.items():
            if key.lower() == name.lower() and values and values[0]:
                raw = values[0]
                if name == "objectGUID" and len(raw) == 16:
                    return str(uuid.UUID(bytes_le=raw))
                try:
                    return raw.decode("utf-8")
                except UnicodeDecodeError:
                    return raw.hex()
    return None


def _connect(url: str):
    import ldap

    conn = ldap.initialize(url)
    conn.protocol_version = ldap.VERSION3
    conn.set_option(ldap.OPT_REFERRALS, 0)
    conn.set_option(ldap.OPT_CONNECT_ASYNC, 1)
    conn.set_option(ldap.OPT_NETWORK_TIMEOUT, TIMEOUT_SECONDS)
    conn.set_option(ldap.OPT_TIMEOUT, TIMEOUT_SECONDS)
    return conn


def verify(directory: DirectoryView, username: str, password: str) -> DirectoryUser | Unreachable | None:
    """The directory's user ``username`` if ``password`` is theirs; None if not (or no such single user)."""
    if not password or not username or "\x00" in username or "\x00" in password or len(username) > 255:
        return None
    try:
        import ldap
        from ldap.filter import escape_filter_chars
    except ImportError:
        return Unreachable("python-ldap is not installed (pip install 'authgate[ldap]')")
    service = None
    try:
        service = _connect(directory.url)
        service.simple_bind_s(directory.bind_dn, directory.bind_password)
        found = [(dn, entry) for dn, entry in service.search_st(
            directory.user_base, ldap.SCOPE_SUBTREE,
            directory.user_filter.replace("{username}", escape_filter_chars(username)), USER_ATTRIBUTES,
            timeout=TIMEOUT_SECONDS) if dn]
        if len(found) != 1:
            return None
        dn, entry = found[0]
        subject = _stable_id(entry)
        if subject is None:
            return Unreachable(NO_STABLE_ID)
        user = _connect(directory.url)
        try:
            user.simple_bind_s(dn, password)
        except ldap.INVALID_CREDENTIALS:
            return None
        finally:
            user.unbind_s()
        groups: set[str] = set()
        if directory.group_base:
            group_filter = directory.group_filter.replace("{dn}", escape_filter_chars(dn)).replace(
                "{username}", escape_filter_chars(username))
            for group_dn, group in service.search_st(directory.group_base, ldap.SCOPE_SUBTREE, group_filter,
                                                     ["cn"], timeout=TIMEOUT_SECONDS):
                if group_dn:
                    groups.update(v.decode("utf-8", "replace") for v in group.get("cn", ()))
        return DirectoryUser(dn, subject, _first(entry, "uid") or username,
                             _first(entry, "mail"), _first(entry, "givenName") or "", _first(entry, "sn") or "",
                             frozenset(groups))
    except ldap.INVALID_CREDENTIALS:
        return Unreachable("the service bind was refused (check the bind DN and password)")
    except ldap.LDAPError as why:
        detail = why.args[0] if why.args and isinstance(why.args[0], dict) else {}
        return Unreachable(f"{type(why).__name__}: {detail.get('desc', '')} {detail.get('info', '')}".strip())
    finally:
        if service is not None:
            try:
                service.unbind_s()
            except Exception:
                pass
