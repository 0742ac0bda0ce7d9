"""The permission checkboxes of the user and group admin pages: the catalogue they offer, and saving the
ticked names through ``PermissionService.assign`` (for a user, when an administrator saves, also the
administrator box)."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from authgate.web.pages.admin_lists import ALL
from authgate.web.pages.flash import redirect
from authgate.web.pages.visitor import signed_in_pairs


def permission_catalog(rt, s) -> list:
    return rt.permissions.list(s, ALL).items


async def save_permissions(request: Request, then: str, *, user_id: int | None = None,
                           group_id: int | None = None) -> Response:
    who, pairs = await signed_in_pairs(request)
    names = [value for name, value in pairs if name == "permissions"]
    rt = request.app.state.runtime

    def assign():
        with rt.db.session() as s:
            administrator = None
            if user_id is not None and rt.permissions.is_administrator(who.principal):
                administrator = ("is_administrator", "on") in pairs
            rt.permissions.assign(s, who.principal, user_id=user_id, group_id=group_id, names=names,
                                  is_administrator=administrator)

    await run_in_threadpool(assign)
    return redirect(request, then, "Permissions saved.")
