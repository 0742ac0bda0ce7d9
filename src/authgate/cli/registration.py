"""``authgate registration``: the operator's initial access tokens for dynamic client registration (RFC 7591 §3,
``AUTHGATE_REGISTRATION=token``), each shown once and stored hashed."""

from __future__ import annotations

from authgate.cli.output import emit
from authgate.services.runtime import Runtime


def registration_token_create(runtime: Runtime, args) -> None:
    with runtime.db.session() as s:
        row, token = runtime.registration.create_initial_token(s, args.expires_in, args.uses)
        data = {"id": row.id, "token": token, "expires_at": row.expires_at.isoformat() if row.expires_at else None,
                "uses": row.uses_allowed}
    lines = [f"Initial access token: {token}",
             f"Registrations: {row.uses_allowed or 'any number'}; expires: {data['expires_at'] or 'never'}.",
             "Keep it now: it is stored hashed and will not be shown again. Clients send it as "
             "Authorization: Bearer to /oauth/register."]
    if runtime.settings.registration_mode != "token":
        lines.append(f"Note: AUTHGATE_REGISTRATION is {runtime.settings.registration_mode}; tokens are asked for "
                     "only when it is token.")
    emit(args.json, data, lines)
