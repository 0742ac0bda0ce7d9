"""The visitor's own sessions on ``/profile``: sign out one of them, or every one but this. ``UserSessions`` holds
the rules; a session id that is not one of the visitor's live sessions is the 404 page, as over the API."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from authgate.web.http.error_format import ErrorFormat
from authgate.web.pages.flash import redirect
from authgate.web.pages.visitor import signed_in_form

router = APIRouter(include_in_schema=False, route_class=ErrorFormat.PAGE.route_class)


@router.post("/profile/sessions/{record_id:id}/end")
async def end_session(request: Request, record_id: int) -> Response:
    who, _ = await signed_in_form(request)
    rt = request.app.state.runtime

    def end():
        with rt.db.session() as s:
            rt.user_sessions.end_for(s, who.principal, who.user.id, record_id)

    await run_in_threadpool(end)
    return redirect(request, "/profile", "Session signed out.")


@router.post("/profile/sessions/end-others")
async def end_other_sessions(request: Request) -> Response:
    who, _ = await signed_in_form(request)
    rt = request.app.state.runtime

    def end():
        with rt.db.session() as s:
            return rt.user_sessions.end_all_for(s, who.principal, who.user.id, keep=who.session_id)

    ended = await run_in_threadpool(end)
    return redirect(request, "/profile", f"Signed out {ended} other session{'' if ended == 1 else 's'}."
                    if ended else "You had no other session.")
