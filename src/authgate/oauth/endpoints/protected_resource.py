"""Protected resource metadata (RFC 9728) for authgate's own API, and where well-known documents live
for an identifier with a path (RFC 9728 §3.1, RFC 8414 §3.1: the well-known segment goes between the
host and the path).

The document says what authgate's API really does: its identifier, the one authorization server that
issues its tokens (this one), the scopes it checks, the bearer token in the ``Authorization`` header
only (RFC 6750 §2.1: the API reads no form or query token) and where its documentation is.
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from authgate.services.applications.resources import OWN_API_NAME, OWN_API_SCOPES

PROTECTED_RESOURCE_PATH = "/.well-known/oauth-protected-resource"
DOCUMENTATION_PATH = "/api/documentation"


def well_known_url(identifier: str, well_known: str) -> str:
    """``well_known`` (a ``/.well-known/...`` path) inserted between the host and the path of ``identifier``."""
    parts = urlsplit(identifier)
    path = parts.path.rstrip("/")
    return urlunsplit((parts.scheme, parts.netloc, well_known + path, parts.query, ""))


def path_suffix(identifier: str) -> str:
    """What follows the well-known segment in the path-inserted URL of ``identifier`` ("" for none)."""
    return urlsplit(identifier).path.rstrip("/")


def metadata_url(identifier: str) -> str:
    """Where the metadata of the resource ``identifier`` is (RFC 9728 §3.1), for ``resource_metadata``."""
    return well_known_url(identifier, PROTECTED_RESOURCE_PATH)


def document(issuer: str, identifier: str) -> dict:
    """The protected resource metadata of authgate's own API (RFC 9728 §2)."""
    return {
        "resource": identifier,
        "authorization_servers": [issuer],
        "scopes_supported": list(OWN_API_SCOPES),
        "bearer_methods_supported": ["header"],
        "resource_name": OWN_API_NAME,
        "resource_documentation": issuer + DOCUMENTATION_PATH,
    }
