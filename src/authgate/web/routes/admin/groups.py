"""``/admin/groups``: groups for administrators — list (search, pages), create, edit, delete, members
and the permissions the group gives. ``GroupService`` and ``PermissionService`` decide who may do what,
exactly as for the API."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from authgate.services.accounts.people.groups import STATUSES
from authgate.services.errors import Conflict, Invalid, NotFound
from authgate.services.operations.listing import MAX_PER_PAGE
from authgate.web.http.error_format import ErrorFormat
from authgate.web.pages.admin_lists import ALL, list_context, list_query
from authgate.web.pages.confirm import ask, carry_out
from authgate.web.pages.flash import redirect
from authgate.web.pages.permission_form import permission_catalog, save_permissions
from authgate.web.pages.templates import page
from authgate.web.pages.visitor import permitted_visitor, signed_in_form, visitor

router = APIRouter(include_in_schema=False, route_class=ErrorFormat.PAGE.route_class)

BASE = "/admin/groups"
GROUP_FIELDS = ("name", "description", "status")
SORTABLE = ("name", "status", "created_at")


@router.get(BASE)
async def groups(request: Request) -> Response:
    who = await run_in_threadpool(visitor, request)
    rt = request.app.state.runtime
    query = list_query(request, "name", sortable=SORTABLE)

    def load():
        with rt.db.session(write=False) as s:
            return rt.groups.list(s, who.principal, query), rt.permissions.allows(s, who.principal, "create-groups")

    result, may_create = await run_in_threadpool(load)
    return page(request, who, "admin_groups.html", groups=result.items, may_create=may_create,
                **list_context(BASE, query, result, sortable=SORTABLE, default_order="name"))


def _new_form(request, who, form=None, error=None, status=200):
    return page(request, who, "admin_group_new.html", status=status, error=error,
                form=form or {"name": "", "description": ""})


@router.get(f"{BASE}/new")
async def new_group(request: Request) -> Response:
    return _new_form(request, await permitted_visitor(request, "create-groups"))


@router.post(f"{BASE}/new")
async def create_group(request: Request) -> Response:
    who, fields = await signed_in_form(request)
    form = {"name": fields.get("name", ""), "description": fields.get("description", "")}
    rt = request.app.state.runtime

    def create():
        with rt.db.session() as s:
            group = rt.groups.create(s, who.principal, form)
            return group.id, group.name

    try:
        group_id, name = await run_in_threadpool(create)
    except (Invalid, Conflict) as error:
        return _new_form(request, who, form, error, status=422)
    return redirect(request, f"{BASE}/{group_id}", f"Group “{name}” created.")


def _group_data(request, who, group_id: int) -> dict:
    rt = request.app.state.runtime
    me = who.principal
    with rt.db.session(write=False) as s:
        group = rt.groups.get(s, me, group_id)
        members = rt.groups.members(s, me, group_id, ALL).items
        allows = {name: rt.permissions.allows(s, me, name) for name in ("edit-groups", "delete-groups", "view-users")}
        joined = {u.id for u in members}
        candidates = [u for u in rt.users.list(s, me, ALL).items if u.id not in joined] \
            if allows["edit-groups"] and allows["view-users"] else []
        return {"group": group, "statuses": STATUSES, "members": members, "candidates": candidates,
                "catalog": permission_catalog(rt, s), "given": rt.permissions.names_of_group(s, group),
                "allows": allows}


async def _group_page(request, who, group_id: int, status: int = 200, **extra) -> Response:
    data = await run_in_threadpool(_group_data, request, who, group_id)
    errors = {"details_error": None, "member_error": None}
    return page(request, who, "admin_group.html", status=status, base=BASE, per_page=MAX_PER_PAGE, **data,
                **{**errors, **extra})


@router.get(BASE + "/{group_id:id}")
async def show_group(request: Request, group_id: int) -> Response:
    who = await run_in_threadpool(visitor, request)
    return await _group_page(request, who, group_id)


@router.post(BASE + "/{group_id:id}")
async def update_group(request: Request, group_id: int) -> Response:
    who, fields = await signed_in_form(request)
    rt = request.app.state.runtime

    def update():
        with rt.db.session() as s:
            return rt.groups.update(s, who.principal, group_id, {k: fields[k] for k in GROUP_FIELDS if k in fields}).name

    try:
        name = await run_in_threadpool(update)
    except (Invalid, Conflict) as error:
        return await _group_page(request, who, group_id, status=422, details_error=error)
    return redirect(request, f"{BASE}/{group_id}", f"Group “{name}” saved.")


def _group_name(group_id: int):
    return lambda rt, s, me: rt.groups.get(s, me, group_id).name


@router.get(BASE + "/{group_id:id}/delete")
async def confirm_delete(request: Request, group_id: int) -> Response:
    return await ask(request, _group_name(group_id), title="Delete group", button="Delete group",
                     question="Delete “{name}”? Its members lose the permissions it gives at once.",
                     action=f"{BASE}/{group_id}/delete", cancel=f"{BASE}/{group_id}")


@router.post(BASE + "/{group_id:id}/delete")
async def delete_group(request: Request, group_id: int) -> Response:
    return await carry_out(request, _group_name(group_id), lambda rt, s, me: rt.groups.delete(s, me, group_id),
                           then=BASE, flash="Group “{name}” deleted.")


@router.post(BASE + "/{group_id:id}/members")
async def add_member(request: Request, group_id: int) -> Response:
    who, fields = await signed_in_form(request)
    rt = request.app.state.runtime

    def add():
        username = fields.get("username", "").strip()
        with rt.db.session() as s:
            try:
                user = rt.users.by_username(s, username)
            except NotFound:
                raise Invalid(f"No user named “{username}”.", field="username") from None
            rt.groups.add_member(s, who.principal, group_id, user.id, None)
            return user.username

    try:
        username = await run_in_threadpool(add)
    except (Invalid, Conflict) as error:
        return await _group_page(request, who, group_id, status=422, member_error=error)
    return redirect(request, f"{BASE}/{group_id}", f"“{username}” added.")


def _membership(rt, s, me, group_id: int, user_id: int):
    rt.groups.get(s, me, group_id)
    membership = rt.groups.membership(s, group_id, user_id)
    if membership is None:
        raise NotFound(f"User {user_id} is not a member of group {group_id}.")
    return membership


def _member_name(group_id: int, user_id: int):
    def name_of(rt, s, me):
        _membership(rt, s, me, group_id, user_id)
        return next(u.username for u in rt.groups.members(s, me, group_id, ALL).items if u.id == user_id)
    return name_of


@router.get(BASE + "/{group_id:id}/members/{user_id:id}/remove")
async def confirm_remove_member(request: Request, group_id: int, user_id: int) -> Response:
    return await ask(request, _member_name(group_id, user_id), title="Remove member", button="Remove member",
                     question="Remove “{name}” from this group? They lose the permissions it gives at once.",
                     action=f"{BASE}/{group_id}/members/{user_id}/remove", cancel=f"{BASE}/{group_id}")


@router.post(BASE + "/{group_id:id}/members/{user_id:id}/remove")
async def remove_member(request: Request, group_id: int, user_id: int) -> Response:
    def remove(rt, s, me):
        rt.groups.remove_member(s, me, _membership(rt, s, me, group_id, user_id).id)

    return await carry_out(request, _member_name(group_id, user_id), remove, then=f"{BASE}/{group_id}",
                           flash="“{name}” removed from the group.")


@router.post(BASE + "/{group_id:id}/permissions")
async def set_permissions(request: Request, group_id: int) -> Response:
    return await save_permissions(request, f"{BASE}/{group_id}", group_id=group_id)
