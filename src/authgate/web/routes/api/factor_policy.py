"""``/api/1.0/security/factor_policy``: who must have a second factor (``FactorPolicyService``), for
administrators; the service checks who asks."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from authgate.services.accounts.people.principal import Principal
from authgate.web.bearer import require_scope
from authgate.web.http.error_format import ErrorFormat
from authgate.web.jsonapi.envelope import Id, describe, errors

router = APIRouter(prefix="/api/1.0", tags=["security"], route_class=ErrorFormat.API.route_class)

PATH = "/security/factor_policy"
Require = Literal["off", "everyone", "administrators", "groups"]


class PolicyGroupOut(BaseModel):
    id: int
    name: str


class FactorPolicyOut(BaseModel):
    require: Require = Field(description="Who must have a second factor: nobody, everyone, administrators, or the "
                                         "members of `groups`.")
    groups: list[PolicyGroupOut]


class FactorPolicyIn(BaseModel):
    require: Require
    group_ids: list[Id] = Field(default_factory=list, max_length=1000,
                                description="With `require: groups`: the groups whose members must have one.")


@router.get(PATH, summary="Show the second-factor policy", response_model=FactorPolicyOut,
            responses=errors(401, 403), description=describe("security:read", "administrators only"))
def show_factor_policy(request: Request, principal: Principal = Depends(require_scope("security:read"))):
    rt = request.app.state.runtime
    with rt.db.session(write=False) as s:
        return rt.factor_policy.current(s, principal).view()


@router.put(PATH, summary="Change the second-factor policy", response_model=FactorPolicyOut,
            responses=errors(401, 403, 422),
            description=describe("security:write", "administrators only") + " A user it covers who has no second "
            "factor sets one up at their next sign-in, and the password grant refuses them until then.")
def change_factor_policy(request: Request, body: FactorPolicyIn,
                         principal: Principal = Depends(require_scope("security:write"))):
    rt = request.app.state.runtime
    with rt.db.session() as s:
        return rt.factor_policy.change(s, principal, body.require, group_ids=list(body.group_ids)).view()
