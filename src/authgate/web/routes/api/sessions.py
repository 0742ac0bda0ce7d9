"""``/api/1.0/users/{id}/sessions``: a user's live browser sessions — list them, end them all, end one. No secret
is shown (the session's cookie value is never stored); ``UserSessions`` decides who may."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field
from starlette.responses import Response

from authgate.services.accounts.people.principal import Principal
from authgate.services.accounts.sessions.user_sessions import public_view
from authgate.services.operations.listing import ListQuery
from authgate.web.bearer import require_scope
from authgate.web.http.error_format import ErrorFormat
from authgate.web.jsonapi.envelope import PathId, describe, errors, list_body, list_of, list_query

router = APIRouter(prefix="/api/1.0", tags=["users"], route_class=ErrorFormat.API.route_class)

RULE = ("none for your own sessions; `edit-users` and every permission they hold for anyone else's (an "
        "administrator's: administrators only). "
        "Ending a session signs that browser out at its next request")


class SessionOut(BaseModel):
    id: int = Field(description="The session's record id (not its secret), to end it by.")
    user_id: int
    device: str = Field(examples=["Firefox on Linux"], description="The user agent, summarised.")
    user_agent: str | None = Field(description="As the browser sent it at sign-in (at most 255 characters).")
    ip: str | None = Field(description="The client address at sign-in, as authgate saw it.")
    started_at: str
    last_seen_at: str | None = Field(description="To the minute; written a moment after the request.")
    expires_at: str


SessionList = list_of(SessionOut, "SessionList")


def _runtime(request: Request):
    return request.app.state.runtime


@router.get("/users/{user_id}/sessions", summary="List a user's live browser sessions", response_model=SessionList,
            responses=errors(401, 403, 404, 422),
            description=describe("users:read", RULE) + " `filter` searches the user agent and the address; "
                                                       "`order_by`: id, started_at, last_seen_at, expires_at.")
def list_sessions(request: Request, user_id: PathId, query: ListQuery = Depends(list_query),
                  principal: Principal = Depends(require_scope("users:read"))):
    rt = _runtime(request)
    with rt.db.session(write=False) as s:
        return list_body(request, rt.user_sessions.list_for(s, principal, user_id, query).map(public_view))


@router.delete("/users/{user_id}/sessions", summary="End every browser session of a user", status_code=204,
               response_class=Response, responses=errors(401, 403, 404, 422), description=describe("users:write", RULE))
def end_sessions(request: Request, user_id: PathId, principal: Principal = Depends(require_scope("users:write"))):
    rt = _runtime(request)
    with rt.db.session() as s:
        rt.user_sessions.end_all_for(s, principal, user_id)
    return Response(status_code=204)


@router.delete("/users/{user_id}/sessions/{session_id}", summary="End one browser session of a user",
               status_code=204, response_class=Response, responses=errors(401, 403, 404, 422),
               description=describe("users:write", RULE) + " An ended, expired or unknown session, or another "
                                                            "user's, is 404.")
def end_session(request: Request, user_id: PathId, session_id: PathId,
                principal: Principal = Depends(require_scope("users:write"))):
    rt = _runtime(request)
    with rt.db.session() as s:
        rt.user_sessions.end_for(s, principal, user_id, session_id)
    return Response(status_code=204)
