"""The API-token form of ``/profile`` and ``/admin/users/{id}``: the scopes and expiry periods it offers,
the token it asks for (an expiry period not offered is ``Invalid``), made through
``PersonalTokenService.create_for``, and the redirect to the page that shows the new token once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from authgate.services.credentials import scopes as scope_rules
from authgate.services.errors import Invalid
from authgate.storage.types import utcnow
from authgate.web.pages.shown_once import show_once
from authgate.web.pages.visitor import Visitor

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


@dataclass(frozen=True)
class TokenRequest:
    name: str
    scopes: list[str]
    fields: dict

    @classmethod
    def of(cls, pairs: list[tuple[str, str]]) -> TokenRequest:
        fields = dict(reversed(pairs))
        return cls(fields.get("name", ""), [value for name, value in pairs if name == "scopes"], fields)

    @property
    def form(self) -> dict:
        """The values to show again when the form is refused."""
        return {"name": self.name, "scopes": self.scopes}


async def make_token(request: Request, who: Visitor, user_id: int, wanted: TokenRequest):
    """The new token's row and its secret; ``Invalid`` (or ``Forbidden``) as the service decides."""
    rt = request.app.state.runtime

    def create():
        with rt.db.session() as s:
            return rt.personal_tokens.create_for(s, who.principal, user_id, wanted.name, wanted.scopes,
                                                 expiry_from(wanted.fields))

    return await run_in_threadpool(create)


async def shown_once(request: Request, who: Visitor, row, token: str, *, title: str, back: str,
                     back_label: str) -> Response:
    """The redirect to the page that shows the new token once."""
    return await show_once(request, who, title=title, what="token", heading=f"Token “{row.name}” created",
                           secret=token, back=back, back_label=back_label,
                           details=[("Scopes", " ".join(row.scopes) or "everything you may do"),
                                    ("Expires", row.expires_at.strftime("%Y-%m-%d %H:%M UTC"))])
