"""How sure authgate is of who signed in: the ``acr`` (authentication context class reference, OpenID Connect
Core §2, RFC 9470 §3) that follows from the ``amr`` recorded at sign-in (RFC 8176 §2).

Two classes: ``ACR_MFA`` when the sign-in used more than one factor (``mfa`` in the ``amr``: a password and a
TOTP or recovery code, or what another factor kind records as multi-factor), ``ACR_1FA`` otherwise. A client
asking for ``ACR_MFA`` in ``acr_values`` gets the user taken through their second factor first.
"""

from __future__ import annotations

ACR_1FA = "urn:authgate:acr:1fa"
ACR_MFA = "urn:authgate:acr:mfa"
ACR_VALUES_SUPPORTED = [ACR_1FA, ACR_MFA]
MFA = "mfa"


def acr_of(amr) -> str | None:
    """The class of a sign-in recorded with ``amr`` (a list or a space-separated string); None when nothing was
    recorded (sessions and tokens from before the methods were recorded)."""
    methods = amr.split() if isinstance(amr, str) else list(amr or ())
    if not methods:
        return None
    return ACR_MFA if MFA in methods else ACR_1FA


def is_multi_factor(amr) -> bool:
    return acr_of(amr) == ACR_MFA
