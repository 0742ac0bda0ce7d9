"""What each built-in grant is called (its ``GrantSpec``), apart from its class: importing this fills the
names registry (``services/applications/grant_types.py``) without importing Authlib, which the CLI's
client commands need only the names of (issue 14: start-up). Each grant's class takes its ``SPEC`` from
here; ``registry.py`` serves the classes, registering the same specs again, so the order stays this one.
"""

from __future__ import annotations

from authgate.services.applications.grant_types import GRANTS, PERSONAL_ACCESS, GrantSpec

AUTHORIZATION_CODE = GrantSpec("authorization_code", "Authorization code", urn="authorization_code", refreshable=True,
                               alias="authorization_code_grant")
PASSWORD = GrantSpec("password", "Password", urn="password", refreshable=True, alias="password_client")
REFRESH_TOKEN = GrantSpec("refresh_token", "Refresh token", urn="refresh_token")
CLIENT_CREDENTIALS = GrantSpec("client_credentials", "Client credentials", urn="client_credentials")
DEVICE_CODE = GrantSpec("device_code", "Device code", urn="urn:ietf:params:oauth:grant-type:device_code",
                        refreshable=True)
"""RFC 8628 §3.4's ``grant_type``."""

for _spec in (AUTHORIZATION_CODE, PASSWORD, REFRESH_TOKEN, CLIENT_CREDENTIALS, PERSONAL_ACCESS, DEVICE_CODE):
    GRANTS.register(_spec)
