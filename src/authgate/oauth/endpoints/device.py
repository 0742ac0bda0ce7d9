"""The device authorization grant (RFC 8628) on Authlib: the device authorization endpoint (§3.1-3.2)
and the token endpoint's ``device_code`` grant (§3.4-3.5).

The token endpoint answers ``authorization_pending`` until the user decides, ``slow_down`` (and a
5-second longer interval) to a device polling faster than its interval, ``access_denied``,
``expired_token``, and ``invalid_grant`` to a code already exchanged.
"""

from __future__ import annotations

from authlib.oauth2.rfc6749 import (
    AccessDeniedError,
    InvalidGrantError,
    InvalidRequestError,
    InvalidScopeError,
    UnauthorizedClientError,
)
from authlib.oauth2.rfc8628 import (
    DEVICE_CODE_GRANT_TYPE,
    AuthorizationPendingError,
    DeviceAuthorizationEndpoint as AuthlibDeviceEndpoint,
    DeviceCodeGrant as AuthlibDeviceCodeGrant,
    ExpiredTokenError,
    SlowDownError,
)

from authlib.common.urls import add_params_to_uri
from authlib.consts import default_json_headers

from authgate.oauth import resources as targets
from authgate.oauth.context import current_db
from authgate.oauth.errors import TooManyRequestsError
from authgate.oauth.grants import specs
from authgate.oauth.grants.base import AuthgateGrant
from authgate.services.applications import client_limits
from authgate.services.credentials import device_codes as device_rules
from authgate.services.operations.ratelimit import TooManyAttempts
from authgate.storage.models import User
from authgate.storage.types import utcnow

VERIFICATION_PATH = "/device"


class DeviceAuthorizationEndpoint(AuthlibDeviceEndpoint):
    CLIENT_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "private_key_jwt", "none"]

    @property
    def EXPIRES_IN(self) -> int:
        return self.server.runtime.settings.device_code_ttl

    @property
    def INTERVAL(self) -> int:
        return self.server.runtime.settings.device_poll_interval

    def authenticate_client(self, request):
        """Limited per address before anything else; per client once it authenticated (``ClientLimits``)."""
        try:
            self.server.runtime.client_limits.request(client_limits.DEVICE, request.client_ip)
        except TooManyAttempts as refused:
            raise TooManyRequestsError(str(refused), refused.retry_after) from None
        client = super().authenticate_client(request)
        if not client.check_grant_type(DEVICE_CODE_GRANT_TYPE):
            raise UnauthorizedClientError("This client may not use the device authorization grant.")
        asked = targets.requested(request.payload)
        if asked:
            client.resources = targets.for_new_grant(self.server.runtime.resources, current_db(), asked,
                                                     request.payload.scope, client.row.scopes).resources
        scope = client.get_allowed_scope(request.payload.scope)
        if scope is None:
            raise InvalidScopeError("The requested scope is unknown or not allowed for this client.")
        return client

    def create_endpoint_response(self, request):
        """RFC 8628 §3.1-3.2, as Authlib answers it; the scope was judged by ``authenticate_client`` (the
        client's, or the resources' with ``resource``), and the device code keeps the resources."""
        client = self.authenticate_client(request)
        user_code = self.generate_user_code()
        data = {
            "device_code": self.generate_device_code(),
            "user_code": user_code,
            "verification_uri": self.get_verification_uri(),
            "verification_uri_complete": add_params_to_uri(self.get_verification_uri(), [("user_code", user_code)]),
            "expires_in": self.EXPIRES_IN,
            "interval": self.INTERVAL,
        }
        resources = [r.identifier for r in client.resources] or None
        self.server.runtime.device_codes.create(current_db(), client.row, client.get_allowed_scope(request.payload.scope),
                                                data["device_code"], data["user_code"], resources=resources)
        return 200, data, default_json_headers

    def get_verification_uri(self) -> str:
        return self.server.runtime.settings.issuer + VERIFICATION_PATH


class DeviceCodeGrant(AuthgateGrant, AuthlibDeviceCodeGrant):
    SPEC = specs.DEVICE_CODE

    def validate_token_request(self):
        """§3.4: the device code must be this client's; §3.5 says what to answer until it can be exchanged."""
        device_code = self.request.payload.data.get("device_code")
        if not device_code:
            raise InvalidRequestError("Missing 'device_code' parameter.")
        client = self.authenticate_token_endpoint_client()
        if not client.check_grant_type(self.GRANT_TYPE):
            raise UnauthorizedClientError("This client may not use the device authorization grant.")
        row = self.services.device_codes.by_device_code(self.request.db, device_code)
        if row is None or row.client_id != client.row.id:
            raise InvalidGrantError("The device code is invalid.")
        self.request.client = client
        self.target = targets.within_grant(self.services.resources, self.request.db, self.requested_resources(),
                                           row.resources, row.scope)
        self.request.user = self._decided_user(row)
        self.request.credential = _Credential(row)

    def _decided_user(self, row) -> User:
        db, devices = self.request.db, self.services.device_codes
        if row.status == device_rules.USED:
            raise InvalidGrantError("The device code was already exchanged for a token.")
        if row.expires_at <= utcnow():
            raise ExpiredTokenError()
        if row.status == device_rules.DENIED:
            raise AccessDeniedError("The user denied the request.")
        if row.status == device_rules.APPROVED:
            user = self.services.users.get(db, row.user_id)
            if not devices.consume(db, row):
                raise InvalidGrantError("The device code was already exchanged for a token.")
            return self.active_user(user)
        if devices.polled_too_soon(db, row, utcnow()):
            raise SlowDownError()
        raise AuthorizationPendingError()


class _Credential:
    def __init__(self, row):
        self.row = row

    def get_scope(self) -> str:
        return self.row.scope
