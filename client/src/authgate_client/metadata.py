"""The server's metadata (RFC 8414 §3, OpenID Connect Discovery 1.0 §4), with authgate's default
paths for whatever the server does not publish."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx

from authgate_client.errors import ConfigurationError, ServerError

DEFAULT_PATHS = {
    "authorization_endpoint": "/oauth/authorize",
    "token_endpoint": "/oauth/token",
    "revocation_endpoint": "/oauth/revoke",
    "introspection_endpoint": "/oauth/introspect",
    "device_authorization_endpoint": "/oauth/device",
    "jwks_uri": "/oauth/jwks",
}


def well_known_urls(issuer: str) -> list[str]:
    """RFC 8414 §3.1 puts the well-known segment before the issuer's path; OIDC Discovery §4 after it."""
    parts = urlsplit(issuer)
    path = parts.path.rstrip("/")
    rfc8414 = urlunsplit((parts.scheme, parts.netloc, "/.well-known/oauth-authorization-server" + path, "", ""))
    oidc = issuer.rstrip("/") + "/.well-known/openid-configuration"
    return [rfc8414, oidc]


@dataclass(frozen=True)
class ServerMetadata:
    issuer: str
    document: dict[str, Any] = field(default_factory=dict)

    @property
    def discovered(self) -> bool:
        return bool(self.document)

    def endpoint(self, name: str) -> str:
        value = self.document.get(name)
        if isinstance(value, str) and value:
            return value
        return self.issuer + DEFAULT_PATHS[name]

    def advertises(self, name: str) -> bool | None:
        """True or False when the server published metadata, None when it did not (so: try it)."""
        if not self.discovered:
            return None
        return bool(self.document.get(name))

    @property
    def issuer_in_authorization_response(self) -> bool:
        """RFC 9207 §3: when advertised, the authorization response must carry ``iss``."""
        return self.document.get("authorization_response_iss_parameter_supported") is True


def discover(http: httpx.Client, issuer: str) -> ServerMetadata:
    for url in well_known_urls(issuer):
        try:
            response = http.get(url, headers={"Accept": "application/json"})
        except httpx.HTTPError as error:
            raise ServerError(f"cannot reach the server at {issuer}: {error}") from error
        if response.status_code != 200:
            continue
        try:
            document = response.json()
        except ValueError:
            continue
        if not isinstance(document, dict):
            continue
        if document.get("issuer") != issuer:
            raise ConfigurationError(
                f"the metadata at {url} names the issuer {document.get('issuer')!r}, not {issuer!r} "
                "(RFC 8414 section 3.3): use exactly the issuer URL the server publishes"
            )
        return ServerMetadata(issuer, document)
    return ServerMetadata(issuer)
