"""A user as the JSON API shows one (``UserOut``), and a list of them: ``/users``, ``/deleted_users``
and ``/groups/{id}/users`` answer these."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel

from authgate.web.jsonapi.envelope import list_of

Status = Literal["ACTIVE", "INACTIVE"]


class UserOut(BaseModel):
    id: int
    username: str
    email: str
    firstname: str
    lastname: str
    status: Status
    is_administrator: bool
    created_at: str
    updated_at: str
    deleted_at: str | None = None
    email_verified_at: str | None = None


UserList = list_of(UserOut, "UserList")
