"""The exceptions the client raises: OAuth errors (RFC 6749 §5.2, RFC 8628 §3.5) by error code, each
carrying ``error``, ``error_description`` and the HTTP ``status``, with a message that says what to do."""

from __future__ import annotations

from typing import Any


class AuthgateClientError(Exception):
    """Base class of every error of this package."""


class ConfigurationError(AuthgateClientError):
    """The client was set up in a way that cannot work (a missing client_id, an unknown store...)."""


class LoginRequired(AuthgateClientError):
    """There are no usable tokens: sign in first (``client.login_*`` or ``authgate-client login``)."""


class AuthorizationTimeout(AuthgateClientError):
    """Nobody completed the sign-in in the browser, or approved the device, in time."""


class ServerError(AuthgateClientError):
    """The server answered something that is not the protocol's JSON (an HTML page, a 5xx, no answer)."""

    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        self.status = status


class OAuthError(AuthgateClientError):
    """An error answer of the authorization server, in the protocol's own terms."""

    hint = ""

    def __init__(self, error: str, error_description: str | None = None, status: int | None = None,
                 hint: str | None = None, body: dict[str, Any] | None = None):
        self.error = error
        self.error_description = error_description
        self.status = status
        self.body = body or {}
        if hint is not None:
            self.hint = hint
        super().__init__(self._message())

    def _message(self) -> str:
        text = self.error
        if self.error_description:
            text += f": {self.error_description}"
        if self.status is not None:
            text += f" (HTTP {self.status})"
        if self.hint:
            text += f". {self.hint}"
        return text


class InvalidRequest(OAuthError):
    hint = "The request is malformed or misses a parameter; check the client's settings"


class InvalidClient(OAuthError):
    hint = ("The server did not recognise the client: check client_id, and client_secret for a "
            "confidential client (a public client has none)")


class InvalidGrant(OAuthError):
    hint = "The code, password or refresh token was refused: sign in again"


class RefreshTokenRejected(InvalidGrant):
    """The refresh token was revoked, expired or already used; the cached tokens were forgotten."""

    hint = ("The refresh token was revoked, expired or already used, so the saved sign-in was "
            "forgotten: sign in again (client.login_* or `authgate-client login`)")


class UnauthorizedClient(OAuthError):
    hint = "This client may not use this grant: register it for the grant (authgate clients create --grant ...)"


class UnsupportedGrantType(OAuthError):
    hint = "The server does not offer this grant"


class InvalidScope(OAuthError):
    hint = "Ask only for scopes the client is registered for (or none for the default)"


class AccessDenied(OAuthError):
    hint = "The user (or the server) declined the request"


class AuthorizationPending(OAuthError):
    hint = "The user has not approved the device yet"


class SlowDown(OAuthError):
    hint = "Polling too fast"


class ExpiredToken(OAuthError):
    hint = "The device code expired before it was approved: start the device flow again"


class StateMismatch(OAuthError):
    hint = "The authorization response does not belong to this request (possible CSRF): start again"


class IssuerMismatch(OAuthError):
    hint = "The authorization response came from another server (RFC 9207): start again"


_BY_CODE: dict[str, type[OAuthError]] = {
    "invalid_request": InvalidRequest,
    "invalid_client": InvalidClient,
    "invalid_grant": InvalidGrant,
    "unauthorized_client": UnauthorizedClient,
    "unsupported_grant_type": UnsupportedGrantType,
    "invalid_scope": InvalidScope,
    "access_denied": AccessDenied,
    "authorization_pending": AuthorizationPending,
    "slow_down": SlowDown,
    "expired_token": ExpiredToken,
}


def oauth_error(error: str, error_description: str | None = None, status: int | None = None,
                body: dict[str, Any] | None = None) -> OAuthError:
    """The typed exception for an OAuth ``error`` code (``OAuthError`` itself for other codes)."""
    cls = _BY_CODE.get(error, OAuthError)
    description = error_description
    if cls is InvalidClient and description is None:
        description = "client authentication failed"
    return cls(error, description, status, body=body)


class ApiError(AuthgateClientError):
    """A non-2xx answer of the resource API (for the CLI's ``api`` and ``whoami``)."""

    def __init__(self, status: int, body: Any):
        self.status = status
        self.body = body
        detail = body.get("message") or body.get("error") if isinstance(body, dict) else None
        super().__init__(f"HTTP {status}" + (f": {detail}" if detail else ""))
