"""A user as the JSON API shows one (``UserOut``), and a list of them: ``/users`` and ``/deleted_users``
answer these; ``/groups/{id}/users`` answers ``MemberList``, whose members are ``MemberSummaryOut`` for a
caller without ``view-users``."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

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


class MemberSummaryOut(BaseModel):
    """A group's member for a caller with ``view-groups`` but not ``view-users``: who, not their personal data."""

    model_config = ConfigDict(extra="forbid")
    id: int
    username: str


MemberList = list_of(UserOut | MemberSummaryOut, "MemberList")
