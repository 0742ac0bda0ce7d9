"""The authorization server: Authlib's ``AuthorizationServer`` wired to authgate's services.

Grants are registered here (PKCE attaches to the code grant as an extension), so adding a grant
is one module in ``oauth/grants`` and one line below.
"""

from __future__ import annotations

from contextvars import ContextVar

from authlib.oauth2 import AuthorizationServer as AuthlibServer
from authlib.oauth2.rfc6749 import (
    InvalidClientError,
    InvalidRequestError,
    InvalidScopeError,
    UnsupportedResponseTypeError,
)
from sqlalchemy.orm import Session

from authlib.oauth2.rfc6749.util import extract_basic_authorization

from authgate.oauth.client_auth import secret_post_or_secret_only
from authgate.oauth.errors import TooManyRequestsError
from authgate.oauth.grants.authorization_code import AuthorizationCodeGrant
from authgate.oauth.grants.client_credentials import ClientCredentialsGrant
from authgate.oauth.grants.password import PasswordGrant
from authgate.oauth.grants.pkce import S256CodeChallenge
from authgate.oauth.grants.refresh_token import RefreshTokenGrant
from authgate.oauth.models import OAuthClient
from authgate.oauth.requests import OAuthRequest
from authgate.services import scopes as scope_rules

_current_db: ContextVar[Session] = ContextVar("authgate_current_db")

Response = tuple[int, object, list[tuple[str, str]]]


class AuthorizationServer(AuthlibServer):
    def __init__(self, runtime):
        super().__init__(scopes_supported=sorted(scope_rules.KNOWN))
        self.runtime = runtime
        self.register_grant(AuthorizationCodeGrant, [S256CodeChallenge(required=True)])
        if runtime.settings.password_grant_enabled:
            self.register_grant(PasswordGrant)
        self.register_grant(RefreshTokenGrant)
        self.register_grant(ClientCredentialsGrant)
        self.register_client_auth_method("client_secret_post", secret_post_or_secret_only(self._client_by_secret))

    def query_client(self, client_id: str) -> OAuthClient | None:
        row = self.runtime.clients.get(_current_db.get(), client_id)
        return OAuthClient(row, self.runtime.clients) if row else None

    def _client_by_secret(self, request: OAuthRequest, secret: str) -> OAuthClient | None:
        row = self.runtime.clients.by_secret(request.db, secret)
        return OAuthClient(row, self.runtime.clients) if row else None

    def authenticate_client(self, request, methods, endpoint="token"):
        """As Authlib, but a failed client authentication is always 401 with ``WWW-Authenticate`` (RFC 6749 §5.2)."""
        try:
            return super().authenticate_client(request, methods, endpoint)
        except InvalidClientError as error:
            error.status_code = 401
            error.description = "Client authentication failed: unknown client, wrong secret or wrong method."
            raise

    def validate_requested_scope(self, scope):
        if scope and any(s not in scope_rules.KNOWN for s in scope_rules.parse(scope)):
            raise InvalidScopeError("The requested scope is unknown.")

    def create_oauth2_request(self, request: OAuthRequest) -> OAuthRequest:
        return request

    def handle_response(self, status, body, headers) -> Response:
        return status, body, headers

    def send_signal(self, name, *args, **kwargs):
        pass

    def token_response(self, request: OAuthRequest) -> Response:
        """The token endpoint (RFC 6749 §3.2): repeated parameters are refused before anything else."""
        token = _current_db.set(request.db)
        try:
            repeated = request.payload.repeated()
            if repeated:
                error = InvalidRequestError(f"Parameter repeated: {', '.join(sorted(repeated))}.")
                return self.handle_error_response(request, error)
            if not request.payload.grant_type:
                return self.handle_error_response(request, InvalidRequestError("Missing 'grant_type' parameter."))
            throttled = self._throttle(request)
            if throttled:
                return self.handle_error_response(request, throttled)
            return self.create_token_response(request)
        finally:
            _current_db.reset(token)

    def _throttle(self, request: OAuthRequest) -> TooManyRequestsError | None:
        """Per-IP and per-client limits on the token endpoint, before any database work."""
        settings, limiter = self.runtime.settings, self.runtime.limiter
        client_id = extract_basic_authorization(request.headers)[0] or request.form.get("client_id") or ""
        checks = [("token-ip", request.client_ip, settings.token_rate_per_ip)]
        if client_id:
            checks.append(("token-client", client_id[:128], settings.token_rate_per_client))
        for name, subject, rate in checks:
            if subject:
                decision = limiter.hit(name, subject, rate)
                if not decision.allowed:
                    return TooManyRequestsError(
                        f"Too many token requests; try again in {decision.retry_after} seconds.", decision.retry_after
                    )
        return None

    def consent_grant(self, request: OAuthRequest, user):
        """Validate an authorization request (RFC 6749 §4.1.1); raises ``OAuth2Error``."""
        token = _current_db.set(request.db)
        try:
            return self.get_consent_grant(request, end_user=user)
        except UnsupportedResponseTypeError as error:
            if request.payload.response_type:
                raise
            raise InvalidRequestError(
                "Missing 'response_type' parameter.", redirect_uri=error.redirect_uri, state=request.payload.state
            ) from None
        finally:
            _current_db.reset(token)

    def authorization_response(self, request: OAuthRequest, grant, user) -> Response:
        """The redirect back to the client with a code, or with ``access_denied`` when ``user`` is None."""
        token = _current_db.set(request.db)
        try:
            return self.create_authorization_response(request, grant_user=user, grant=grant)
        finally:
            _current_db.reset(token)
