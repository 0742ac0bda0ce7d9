"""``/api/1.0/users``: list, create, read, update, soft-delete and restore users, and ``users/me``
(also answered by the fast lane, ``web/fast_lane.py``, when its token is cached)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field
from starlette.responses import Response

from authgate.services.accounts.people.principal import Principal
from authgate.services.accounts.people.users import public_view
from authgate.services.operations.listing import ListQuery
from authgate.web.bearer import require_scope
from authgate.web.fast_lane import FastRead
from authgate.web.http.error_format import ErrorFormat
from authgate.web.jsonapi.envelope import PathId, describe, errors, list_body, list_query
from authgate.web.jsonapi.user_json import Status, UserList, UserOut

router = APIRouter(prefix="/api/1.0", tags=["users"], route_class=ErrorFormat.API.route_class)

class UserCreate(BaseModel):
    username: str = Field(min_length=1, max_length=255)
    email: str = Field(min_length=3, max_length=255, examples=["alice@example.com"])
    password: str = Field(min_length=8, max_length=1024)
    firstname: str = Field("", max_length=255)
    lastname: str = Field("", max_length=255)
    status: Status = "ACTIVE"
    is_administrator: bool = Field(False, description="Only an administrator may set it.")


class UserUpdate(BaseModel):
    """Only the fields sent change; ``null`` leaves a field as it is."""

    username: str | None = Field(None, min_length=1, max_length=255)
    email: str | None = Field(None, min_length=3, max_length=255)
    password: str | None = Field(None, min_length=8, max_length=1024)
    firstname: str | None = Field(None, max_length=255)
    lastname: str | None = Field(None, max_length=255)
    status: Status | None = None
    is_administrator: bool | None = None
    current_password: str | None = Field(None, max_length=1024, description=(
        "Required to change your own password or email. A password change signs the user out everywhere and "
        "revokes their OAuth tokens; personal access tokens stay."))


def _runtime(request: Request):
    return request.app.state.runtime


@router.get("/users", summary="List users", response_model=UserList, responses=errors(401, 403, 422),
            description=describe("users:read", "`view-users`. A client credentials token may list users when its "
                                 "client was given the scope `users:read` by name by an administrator "
                                 "(or a holder of `view-users`) who still may"))
def list_users(request: Request, query: ListQuery = Depends(list_query),
               principal: Principal = Depends(require_scope("users:read"))):
    rt = _runtime(request)
    with rt.db.session(write=False) as s:
        return list_body(request, rt.users.list(s, principal, query).map(public_view))


@router.get("/deleted_users", summary="List deleted users", response_model=UserList, responses=errors(401, 403, 422),
            description=describe("users:read", "`delete-users`") + " The ids to restore.")
def list_deleted_users(request: Request, query: ListQuery = Depends(list_query),
                       principal: Principal = Depends(require_scope("users:read"))):
    rt = _runtime(request)
    with rt.db.session(write=False) as s:
        return list_body(request, rt.users.list(s, principal, query, deleted=True).map(public_view))


@router.post("/users", summary="Create a user", status_code=201, response_model=UserOut,
             responses=errors(401, 403, 409, 422), description=describe("users:write", "`create-users`"))
def create_user(request: Request, body: UserCreate, principal: Principal = Depends(require_scope("users:write"))):
    rt = _runtime(request)
    with rt.db.session() as s:
        user = rt.users.create(
            s, body.username, body.email, body.password, is_administrator=body.is_administrator,
            firstname=body.firstname, lastname=body.lastname, status=body.status, actor=principal,
        )
        return public_view(user)


ME = FastRead(router.prefix + "/users/me", ("users:read",), lambda principal: public_view(principal.user),
              user_required=True, depends_on=lambda principal: principal.user)


@router.get("/users/me", summary="The user behind the token", response_model=UserOut, responses=errors(401, 403),
            description=describe("users:read", "none; a client credentials token has no user and gets 403"))
async def me(principal: Principal = Depends(require_scope(*ME.scopes, user_required=ME.user_required))):
    return ME.body(principal)


@router.get("/users/{user_id}", summary="Get a user", response_model=UserOut, responses=errors(401, 403, 404, 422),
            description=describe("users:read", "`view-users`, or the user themselves"))
def get_user(request: Request, user_id: PathId, principal: Principal = Depends(require_scope("users:read"))):
    rt = _runtime(request)
    with rt.db.session(write=False) as s:
        return public_view(rt.users.visible(s, principal, user_id))


@router.put("/users/{user_id}", summary="Update a user", response_model=UserOut,
            responses=errors(401, 403, 404, 409, 422),
            description=describe("users:write", "`edit-users`; a user may change their own email, names and "
                                 "password (email and password with `current_password`, administrators too). Changing another user's password, email or "
                                 "username also needs every permission they hold. Only administrators change "
                                 "administrators or `is_administrator`"))
def update_user(request: Request, user_id: PathId, body: UserUpdate,
                principal: Principal = Depends(require_scope("users:write"))):
    rt = _runtime(request)
    changes = {k: v for k, v in body.model_dump(exclude_unset=True).items() if v is not None}
    current_password = changes.pop("current_password", None)
    with rt.db.session() as s:
        return public_view(rt.users.update(s, principal, user_id, changes, current_password=current_password))


@router.delete("/users/{user_id}", summary="Delete a user (soft); their tokens are revoked at once", status_code=204,
               responses=errors(401, 403, 404, 422), response_class=Response,
               description=describe("users:write", "`delete-users`; only administrators delete administrators, "
                                    "and nobody deletes themselves"))
def delete_user(request: Request, user_id: PathId, principal: Principal = Depends(require_scope("users:write"))):
    rt = _runtime(request)
    with rt.db.session() as s:
        rt.users.delete(s, principal, user_id)
    return Response(status_code=204)


@router.put("/users/{user_id}/restore", summary="Restore a deleted user", response_model=UserOut,
            responses=errors(401, 403, 404, 422),
            description=describe("users:write", "`delete-users`, and every permission the user holds; only "
                                 "administrators restore administrators") + " Tokens revoked by the delete stay revoked.")
def restore_user(request: Request, user_id: PathId, principal: Principal = Depends(require_scope("users:write"))):
    rt = _runtime(request)
    with rt.db.session() as s:
        return public_view(rt.users.restore(s, principal, user_id))
