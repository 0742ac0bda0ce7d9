"""What the account page (``/profile``) and a user's admin page show of an account's sessions and security events.

The services decide who may see what; a page that may not (an administrator's sessions to a holder of
``edit-users``) gets None and leaves the section out."""

from __future__ import annotations

from sqlalchemy.orm import Session

from authgate.services.errors import Forbidden


def own_account_security(rt, s: Session, who) -> dict:
    """The visitor's live sessions (theirs marked) and their latest security events."""
    page = rt.user_sessions.list_for(s, who.principal, who.user.id, current=who.session_id)
    return {"sessions": page.items, "sessions_total": page.total, "own_events": rt.activity.own_latest(s, who.principal)}


def sessions_of(rt, s: Session, who, user_id: int) -> dict:
    """A user's live sessions for their admin page (None when the visitor may not manage them)."""
    try:
        page = rt.user_sessions.list_for(s, who.principal, user_id, current=who.session_id)
    except Forbidden:
        return {"sessions": None, "sessions_total": 0}
    return {"sessions": page.items, "sessions_total": page.total}
