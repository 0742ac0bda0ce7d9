"""Every grant authgate serves, registered once: a new grant is its module, its spec in ``specs.py``
and one line below.

``register`` puts the grant's ``SPEC`` into the names registry (``services/applications/grant_types.py``), which
the client service, the admin pages, the metrics and the CLI read, and adds the class to
``TOKEN_GRANTS``, which ``AuthorizationServer`` registers with Authlib (and the metadata lists).
The order is the metadata's and the CLI's (that of ``specs.py``, which the CLI imports alone, without
the classes and Authlib).
"""

from __future__ import annotations

from authgate.oauth.endpoints.device import DeviceCodeGrant
from authgate.oauth.grants.authorization_code import AuthorizationCodeGrant
from authgate.oauth.grants.client_credentials import ClientCredentialsGrant
from authgate.oauth.grants.password import PasswordGrant
from authgate.oauth.grants.refresh_token import RefreshTokenGrant
from authgate.services.applications.grant_types import GRANTS, PERSONAL_ACCESS

TOKEN_GRANTS: list[type] = []


def register(grant: type) -> type:
    """Serve ``grant`` at the token endpoint and accept its name wherever grants are named."""
    GRANTS.register(grant.SPEC)
    if grant not in TOKEN_GRANTS:
        TOKEN_GRANTS.append(grant)
    return grant


def unregister(grant: type) -> None:
    GRANTS.unregister(grant.SPEC.name)
    if grant in TOKEN_GRANTS:
        TOKEN_GRANTS.remove(grant)


register(AuthorizationCodeGrant)
register(PasswordGrant)
register(RefreshTokenGrant)
register(ClientCredentialsGrant)
GRANTS.register(PERSONAL_ACCESS)
register(DeviceCodeGrant)
