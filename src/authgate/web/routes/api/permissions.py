"""``/api/1.0/permissions``: the named permissions, and granting them to a user or a group."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field
from starlette.responses import Response

from authgate.services.accounts.people.permissions import public_view
from authgate.services.accounts.people.principal import Principal
from authgate.services.operations.listing import ListQuery
from authgate.web.bearer import check_scope, require_scope
from authgate.web.http.error_format import ErrorFormat
from authgate.web.jsonapi.envelope import MAX_ID, Id, describe, errors, list_body, list_of, list_query

router = APIRouter(prefix="/api/1.0", tags=["permissions"], route_class=ErrorFormat.API.route_class)


class PermissionOut(BaseModel):
    id: int
    name: str
    title: str
    group: str


PermissionList = list_of(PermissionOut, "PermissionList")


class PermissionsAssign(BaseModel):
    """Exactly one of ``user_id`` and ``group_id``. ``permission_names`` replaces what that user or
    group holds directly (as ProcessMaker's sync); leave it out to change only ``is_administrator``."""

    user_id: Id | None = None
    group_id: Id | None = None
    permission_names: list[Annotated[str, Field(max_length=64)]] | None = Field(None, max_length=200,
                                                                               examples=[["view-users", "edit-users"]])
    is_administrator: bool | None = Field(None, description="Users only; only an administrator may change it.")


def _runtime(request: Request):
    return request.app.state.runtime


@router.get("/permissions", summary="List permissions", response_model=PermissionList, responses=errors(401, 403, 422),
            description=describe("users:read", "none to list them all; with `user_id`, `view-users` (or yourself); "
                                 "with `group_id`, `view-groups`"))
def list_permissions(
    request: Request,
    query: ListQuery = Depends(list_query),
    user_id: Annotated[int | None, Query(ge=1, le=MAX_ID, description="Only those granted to this user directly.")] = None,
    group_id: Annotated[int | None, Query(ge=1, le=MAX_ID, description="Only those granted to this group.")] = None,
    principal: Principal = Depends(require_scope("users:read")),
):
    rt = _runtime(request)
    with rt.db.session(write=False) as s:
        if user_id is not None:
            rt.users.visible(s, principal, user_id)
        if group_id is not None:
            rt.groups.get(s, principal, group_id)
        page = rt.permissions.list(s, query, user_id=user_id, group_id=group_id)
        return list_body(request, page.map(public_view))


@router.put("/permissions", summary="Set the permissions of a user or a group", status_code=204,
            response_class=Response, responses=errors(401, 403, 404, 422),
            description="**Scope:** `users:write` for a user, `groups:write` for a group. **Permission:** "
                        "`edit-users` or `edit-groups`; a non-administrator can only grant or remove permissions "
                        "they hold; only an administrator changes administrators.")
def assign_permissions(request: Request, body: PermissionsAssign,
                       principal: Principal = Depends(require_scope("users:write", "groups:write"))):
    check_scope(principal, "groups:write" if body.group_id is not None else "users:write")
    rt = _runtime(request)
    with rt.db.session() as s:
        rt.permissions.assign(s, principal, user_id=body.user_id, group_id=body.group_id,
                              names=body.permission_names, is_administrator=body.is_administrator)
    return Response(status_code=204)
