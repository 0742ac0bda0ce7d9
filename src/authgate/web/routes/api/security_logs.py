"""``/api/1.0/security_logs``: the audit log, for administrators."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel

from authgate.services.accounts.people.principal import Principal
from authgate.services.operations import audit
from authgate.services.operations.listing import ListQuery
from authgate.web.bearer import require_scope
from authgate.web.http.error_format import ErrorFormat
from authgate.web.jsonapi.envelope import describe, errors, list_body, list_of, list_query

router = APIRouter(prefix="/api/1.0", tags=["security logs"], route_class=ErrorFormat.API.route_class)


class SecurityLogOut(BaseModel):
    id: int
    event: str
    occurred_at: str
    user_id: int | None
    client_id: str | None
    subject: str | None
    ip: str | None
    request_id: str | None
    actor: str | None
    details: dict


SecurityLogList = list_of(SecurityLogOut, "SecurityLogList")


@router.get("/security_logs", summary="List security events", response_model=SecurityLogList,
            responses=errors(401, 403, 422),
            description=describe("security_logs:read", "administrators only") + " Events: "
            + ", ".join(f"`{e}`" for e in audit.EVENTS) + ". `filter` searches event, subject, ip and client id.")
def list_security_logs(request: Request, query: ListQuery = Depends(list_query),
                       principal: Principal = Depends(require_scope("security_logs:read"))):
    rt = request.app.state.runtime
    with rt.db.session(write=False) as s:
        return list_body(request, rt.audit.list(s, principal, query).map(audit.public_view))
