"""authgate-client: every OAuth flow of an authgate server in one call, tokens that refresh
themselves (before they expire, and once on a 401), adapters for httpx and requests, and a CLI.

    from authgate_client import Client
    client = Client("https://auth.example.com", "CLIENT_ID", scopes=["users:read"])
    client.login_browser()
    print(client.get("/api/1.0/users/me").json())
"""

from authgate_client.client import Client
from authgate_client.device_flow import DeviceAuthorization
from authgate_client.errors import (
    AccessDenied,
    ApiError,
    AuthgateClientError,
    AuthorizationPending,
    AuthorizationTimeout,
    ConfigurationError,
    ExpiredToken,
    InvalidClient,
    InvalidGrant,
    InvalidRequest,
    InvalidScope,
    IssuerMismatch,
    LoginRequired,
    OAuthError,
    RefreshTokenRejected,
    ServerError,
    SlowDown,
    StateMismatch,
    UnauthorizedClient,
    UnsupportedGrantType,
)
from authgate_client.httpx_auth import AuthgateAuth
from authgate_client.metadata import ServerMetadata
from authgate_client.store import FileStore, KeyringStore, MemoryStore, TokenStore
from authgate_client.tokens import TokenSet

__version__ = "0.1.0"

__all__ = [
    "AccessDenied",
    "ApiError",
    "AuthgateAuth",
    "AuthgateClientError",
    "AuthorizationPending",
    "AuthorizationTimeout",
    "Client",
    "ConfigurationError",
    "DeviceAuthorization",
    "ExpiredToken",
    "FileStore",
    "InvalidClient",
    "InvalidGrant",
    "InvalidRequest",
    "InvalidScope",
    "IssuerMismatch",
    "KeyringStore",
    "LoginRequired",
    "MemoryStore",
    "OAuthError",
    "RefreshTokenRejected",
    "ServerError",
    "ServerMetadata",
    "SlowDown",
    "StateMismatch",
    "TokenSet",
    "TokenStore",
    "UnauthorizedClient",
    "UnsupportedGrantType",
]
