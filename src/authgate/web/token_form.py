"""The API-token form of ``/profile`` and ``/admin/users/{id}``: the scopes and expiry periods it offers,
and the expiry time the visitor chose (one of those periods, else ``Invalid``)."""

from __future__ import annotations

from datetime import timedelta

from authgate.services import scopes as scope_rules
from authgate.services.errors import Invalid
from authgate.storage.types import utcnow

EXPIRY_DAYS = (7, 30, 90, 365)
DEFAULT_EXPIRY_DAYS = 30
TOKEN_SCOPES = [scope for scope in scope_rules.DESCRIPTIONS if scope == scope_rules.ALL or ":" in scope]


def token_form_choices() -> dict:
    return {"scope_choices": scope_rules.describe(TOKEN_SCOPES), "expiry_days": EXPIRY_DAYS,
            "default_expiry": DEFAULT_EXPIRY_DAYS}


def expiry_from(fields: dict) -> object:
    try:
        days = int(fields.get("expires_in_days", DEFAULT_EXPIRY_DAYS))
    except ValueError:
        days = 0
    if days not in EXPIRY_DAYS:
        raise Invalid("Choose one of the offered expiry periods.", field="expires_in_days")
    return utcnow() + timedelta(days=days)
