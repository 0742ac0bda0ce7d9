"""``/admin/sign-in-policy``: who must have a second factor (off, everyone, administrators, or the members of chosen
groups), for administrators. ``FactorPolicyService`` decides who may see and change it, exactly as for the API and
the CLI, and audits each change."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from authgate.services.accounts.factors.factor_policy import REQUIRES
from authgate.services.errors import Invalid
from authgate.services.operations.listing import MAX_PER_PAGE, ListQuery
from authgate.web.http.error_format import ErrorFormat
from authgate.web.pages.flash import redirect
from authgate.web.pages.templates import page
from authgate.web.pages.visitor import signed_in_pairs, visitor

router = APIRouter(include_in_schema=False, route_class=ErrorFormat.PAGE.route_class)

BASE = "/admin/sign-in-policy"
CHOICES = {
    "off": "Nobody: a second factor is each user's choice",
    "everyone": "Everyone",
    "administrators": "Administrators",
    "groups": "Members of these groups",
}


async def _render(request: Request, who, error: Invalid | None = None, chosen: dict | None = None,
                  status: int = 200) -> Response:
    rt = request.app.state.runtime

    def load():
        with rt.db.session(write=False) as s:
            policy = rt.factor_policy.current(s, who.principal)
            groups = rt.groups.list(s, who.principal, ListQuery(per_page=MAX_PER_PAGE, order_by="name")).items
            return policy, [(g.id, g.name) for g in groups]

    policy, groups = await run_in_threadpool(load)
    shown = chosen or {"require": policy.require, "group_ids": {g.id for g in policy.groups}}
    return page(request, who, "admin_sign_in_policy.html", status=status, error=error, choices=CHOICES,
                require=shown["require"], chosen_groups=shown["group_ids"], groups=groups, base=BASE)


@router.get(BASE)
async def policy_page(request: Request) -> Response:
    return await _render(request, await run_in_threadpool(visitor, request))


@router.post(BASE)
async def change_policy(request: Request) -> Response:
    who, pairs = await signed_in_pairs(request)
    require = next((value for name, value in pairs if name == "require"), "")
    wanted = [value for name, value in pairs if name == "group_ids"]
    rt = request.app.state.runtime
    group_ids = [int(value) for value in wanted if value.isdigit() and len(value) < 10]
    chosen = {"require": require if require in REQUIRES else "off", "group_ids": set(group_ids)}

    def change():
        with rt.db.session() as s:
            return rt.factor_policy.change(s, who.principal, require,
                                           group_ids=group_ids if require == "groups" else [])

    try:
        await run_in_threadpool(change)
    except Invalid as error:
        return await _render(request, who, error, chosen, status=422)
    return redirect(request, BASE, "Second-factor policy saved: it applies from each user's next sign-in.")
