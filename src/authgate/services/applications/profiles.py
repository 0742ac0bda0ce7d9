"""Security profiles a client is held to, per client (``oauth_clients.profile``) or server-wide
(``AUTHGATE_PROFILE``). One so far: ``fapi2``, the FAPI 2.0 Security Profile (OpenID Foundation, final).

What the profile asks of a client's registration is checked here when an administrator gives it the profile
(``misfits``): a confidential client authenticating with ``private_key_jwt`` (§5.3.2.1 items 3 and 6), only the
code, refresh and client credentials grants (§5.3.2.1 item 2: no password grant; §5.3.2.2 item 1: only
``response_type=code``), redirect URIs over https or to a loopback address (§5.3.2.2 item 7). What it asks of each
request is the protocol core's (``oauth/fapi.py``), which holds server-wide-profile clients to it as well.
"""

from __future__ import annotations

from urllib.parse import urlsplit

FAPI2 = "fapi2"
PROFILES = (FAPI2,)
NONE = "none"
"""What an administrator gives to take a client's profile away."""
FAPI2_ALGORITHMS = ("PS256", "ES256", "EdDSA")
"""FAPI 2.0 §5.4.1: the only signing algorithms, for client assertions, DPoP proofs and what authgate signs."""
FAPI2_GRANTS = ("authorization_code", "refresh_token", "client_credentials")
FAPI2_CODE_SECONDS = 60
"""§5.3.2.1 item 11: authorization codes live at most 60 seconds."""
LOOPBACK = ("127.0.0.1", "::1", "localhost")


def fapi2(settings, client) -> bool:
    """Whether ``client`` (a row or a ``ClientView``) is held to FAPI 2.0, by itself or by the server."""
    return settings.profile == FAPI2 or getattr(client, "profile", None) == FAPI2


def checked(value) -> str | None:
    """The profile to store for ``value`` (``fapi2``; ``none``, ``""`` or None: no profile)."""
    if value in (None, "", NONE):
        return None
    if value not in PROFILES:
        raise ValueError(f"unknown profile {value!r}; choose from {', '.join(PROFILES)} or {NONE}")
    return value


def misfits(client) -> list[str]:
    """What in ``client``'s registration FAPI 2.0 does not allow (empty: it fits)."""
    found = []
    if client.public:
        found.append("a FAPI 2.0 client is confidential (public clients are not allowed)")
    elif client.auth_method != "private_key_jwt":
        found.append("a FAPI 2.0 client authenticates with private_key_jwt (give it keys: --auth-method "
                     "private_key_jwt with --jwks-file or --jwks-uri)")
    other = [g for g in client.grants or () if g not in FAPI2_GRANTS]
    if other:
        found.append(f"FAPI 2.0 allows only the {', '.join(FAPI2_GRANTS)} grants, not {', '.join(other)}")
    for uri in client.redirect_uris or ():
        parts = urlsplit(uri)
        if parts.scheme == "http" and parts.hostname not in LOOPBACK:
            found.append(f"redirect URI {uri} must use https (http only to a loopback address)")
    return found
