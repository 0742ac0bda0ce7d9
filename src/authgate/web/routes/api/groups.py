"""``/api/1.0/groups`` and ``/api/1.0/group_members``: groups, and which users belong to them."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field
from starlette.responses import Response

from authgate.services.accounts.people.groups import member_user_view, member_view, public_view
from authgate.services.accounts.people.principal import Principal
from authgate.services.operations.listing import ListQuery
from authgate.web.bearer import require_scope
from authgate.web.http.error_format import ErrorFormat
from authgate.web.jsonapi.envelope import Id, PathId, describe, errors, list_body, list_of, list_query
from authgate.web.jsonapi.user_json import MemberList

router = APIRouter(prefix="/api/1.0", tags=["groups"], route_class=ErrorFormat.API.route_class)

Status = Literal["ACTIVE", "INACTIVE"]


class GroupOut(BaseModel):
    id: int
    name: str
    description: str
    status: Status
    created_at: str
    updated_at: str


GroupList = list_of(GroupOut, "GroupList")


class GroupCreate(BaseModel):
    name: str = Field(min_length=1, max_length=255)
    description: str = Field("", max_length=10_000)
    status: Status = "ACTIVE"


class GroupUpdate(BaseModel):
    name: str | None = Field(None, min_length=1, max_length=255)
    description: str | None = Field(None, max_length=10_000)
    status: Status | None = None


class GroupMemberCreate(BaseModel):
    group_id: Id
    member_id: Id = Field(description="The user's id.")
    member_type: str | None = Field(None, examples=["ProcessMaker\\Models\\User"],
                                    description="Only users can be members: `user` or ProcessMaker's class name.")


class GroupMemberOut(BaseModel):
    id: int
    group_id: int
    member_id: int
    member_type: str
    created_at: str
    updated_at: str


def _runtime(request: Request):
    return request.app.state.runtime


@router.get("/groups", summary="List groups", response_model=GroupList, responses=errors(401, 403, 422),
            description=describe("groups:read", "`view-groups`. A client credentials token may list groups when its "
                                 "client was given the scope `groups:read` by name by an administrator "
                                 "(or a holder of `view-groups`) who still may"))
def list_groups(request: Request, query: ListQuery = Depends(list_query),
                principal: Principal = Depends(require_scope("groups:read"))):
    rt = _runtime(request)
    with rt.db.session(write=False) as s:
        return list_body(request, rt.groups.list(s, principal, query).map(public_view))


@router.post("/groups", summary="Create a group", status_code=201, response_model=GroupOut,
             responses=errors(401, 403, 409, 422), description=describe("groups:write", "`create-groups`"))
def create_group(request: Request, body: GroupCreate, principal: Principal = Depends(require_scope("groups:write"))):
    rt = _runtime(request)
    with rt.db.session() as s:
        return public_view(rt.groups.create(s, principal, body.model_dump()))


@router.get("/groups/{group_id}", summary="Get a group", response_model=GroupOut,
            responses=errors(401, 403, 404, 422), description=describe("groups:read", "`view-groups`"))
def get_group(request: Request, group_id: PathId, principal: Principal = Depends(require_scope("groups:read"))):
    rt = _runtime(request)
    with rt.db.session(write=False) as s:
        return public_view(rt.groups.get(s, principal, group_id))


@router.put("/groups/{group_id}", summary="Update a group", response_model=GroupOut,
            responses=errors(401, 403, 404, 409, 422),
            description=describe("groups:write", "`edit-groups`; changing the status of a group needs every "
                                 "permission the group gives"))
def update_group(request: Request, group_id: PathId, body: GroupUpdate,
                 principal: Principal = Depends(require_scope("groups:write"))):
    rt = _runtime(request)
    changes = {k: v for k, v in body.model_dump(exclude_unset=True).items() if v is not None}
    with rt.db.session() as s:
        return public_view(rt.groups.update(s, principal, group_id, changes))


@router.delete("/groups/{group_id}", summary="Delete a group", status_code=204, response_class=Response,
               responses=errors(401, 403, 404, 422),
               description=describe("groups:write", "`delete-groups`, and every permission the group gives"))
def delete_group(request: Request, group_id: PathId, principal: Principal = Depends(require_scope("groups:write"))):
    rt = _runtime(request)
    with rt.db.session() as s:
        rt.groups.delete(s, principal, group_id)
    return Response(status_code=204)


@router.get("/groups/{group_id}/users", summary="List the users of a group", response_model=MemberList,
            responses=errors(401, 403, 404, 422),
            description=describe("groups:read", "`view-groups`; the members' email, names and the rest of the user "
                                 "need `view-users` too (without it: `id` and `username`, searched and sorted by "
                                 "these alone)"))
def group_users(request: Request, group_id: PathId, query: ListQuery = Depends(list_query),
                principal: Principal = Depends(require_scope("groups:read"))):
    rt = _runtime(request)
    with rt.db.session(write=False) as s:
        return list_body(request, rt.groups.members(s, principal, group_id, query).map(member_user_view))


@router.post("/group_members", summary="Add a user to a group", status_code=201, response_model=GroupMemberOut,
             responses=errors(401, 403, 409, 422),
             description=describe("groups:write", "`edit-groups`, and every permission the group gives"))
def add_group_member(request: Request, body: GroupMemberCreate,
                     principal: Principal = Depends(require_scope("groups:write"))):
    rt = _runtime(request)
    with rt.db.session() as s:
        return member_view(rt.groups.add_member(s, principal, body.group_id, body.member_id, body.member_type))


@router.delete("/group_members/{group_member_id}", summary="Remove a user from a group", status_code=204,
               response_class=Response, responses=errors(401, 403, 404, 422),
               description=describe("groups:write", "`edit-groups`, and every permission the group gives"))
def remove_group_member(request: Request, group_member_id: PathId,
                        principal: Principal = Depends(require_scope("groups:write"))):
    rt = _runtime(request)
    with rt.db.session() as s:
        rt.groups.remove_member(s, principal, group_member_id)
    return Response(status_code=204)
