"""``/admin/resources``: the resource servers tokens may be asked for (RFC 8707) — list (search, pages),
register, edit, delete. ``ResourceService`` decides who may (``view-auth_clients`` to read, an
administrator to change), exactly as for the API; a refused change shows the form again with the
reason. authgate's own API is listed, keeps its name and scopes, and has no delete button."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from authgate.services.errors import Conflict, Forbidden, Invalid
from authgate.web.http.error_format import ErrorFormat
from authgate.web.pages import record_ids
from authgate.web.pages.admin_lists import list_context, list_query
from authgate.web.pages.confirm import ask, carry_out
from authgate.web.pages.csrf import checked_pairs, session_binding
from authgate.web.pages.flash import redirect
from authgate.web.pages.templates import page
from authgate.web.pages.visitor import visitor

router = APIRouter(include_in_schema=False, route_class=ErrorFormat.PAGE.route_class)

ID = record_ids.RecordId
"""The ``{name:id}`` path convertor of the routes below, registered when ``record_ids`` is imported."""
BASE = "/admin/resources"
SORTABLE = ("name", "identifier", "created_at")
EMPTY = {"identifier": "", "name": "", "scopes": [], "access_token_ttl": "", "introspection": True}


def form_values(pairs: list[tuple[str, str]]) -> dict:
    fields = dict(reversed(pairs))
    return {
        "identifier": fields.get("identifier", "").strip(),
        "name": fields.get("name", ""),
        "scopes": fields.get("scopes", "").split(),
        "access_token_ttl": fields.get("access_token_ttl", "").strip(),
        "introspection": fields.get("introspection") == "on",
    }


def _ttl(text: str) -> int | None:
    if not text:
        return None
    if not text.isdigit() or len(text) > 9:
        raise Invalid("access_token_ttl must be a whole number of seconds, or empty for the default",
                      field="access_token_ttl")
    return int(text)


def _status(error: Exception) -> int:
    return 403 if isinstance(error, Forbidden) else 409 if isinstance(error, Conflict) else 422


@router.get(BASE)
async def resources(request: Request) -> Response:
    who = await run_in_threadpool(visitor, request)
    rt = request.app.state.runtime
    query = list_query(request, "name", sortable=SORTABLE)

    def load():
        with rt.db.session(write=False) as s:
            return rt.resources.page(s, who.principal, query)

    result = await run_in_threadpool(load)
    return page(request, who, "admin_resources.html", resources=result.items,
                may_change=rt.permissions.is_administrator(who.principal),
                **list_context(BASE, query, result, sortable=SORTABLE, default_order="name"))


def _form(request, who, resource=None, form=None, error=None, status=200):
    if form is None:
        form = EMPTY if resource is None else {
            "identifier": resource.identifier, "name": resource.name, "scopes": list(resource.scopes),
            "access_token_ttl": resource.access_token_ttl or "", "introspection": resource.introspection}
    action = f"{BASE}/new" if resource is None else f"{BASE}/{resource.id}"
    return page(request, who, "admin_resource_form.html", status=status, form=form, error=error, resource=resource,
                action=action)


@router.get(f"{BASE}/new")
async def new_resource(request: Request) -> Response:
    who = await run_in_threadpool(visitor, request)
    request.app.state.runtime.permissions.require_administrator(who.principal, "register a resource server")
    return _form(request, who)


@router.post(f"{BASE}/new")
async def create_resource(request: Request) -> Response:
    who = await run_in_threadpool(visitor, request)
    form = form_values(await checked_pairs(request, session_binding(who.session_id)))
    rt = request.app.state.runtime

    def create():
        with rt.db.session() as s:
            return rt.resources.create(s, form["identifier"], form["name"], form["scopes"],
                                       access_token_ttl=_ttl(form["access_token_ttl"]),
                                       introspection=form["introspection"], actor=who.principal)

    try:
        row = await run_in_threadpool(create)
    except (Invalid, Forbidden, Conflict) as error:
        return _form(request, who, None, form, error, status=_status(error))
    return redirect(request, BASE, f"Resource “{row.name}” registered.")


def _visible(request, who, resource_id: int):
    rt = request.app.state.runtime
    with rt.db.session(write=False) as s:
        return rt.resources.visible(s, who.principal, resource_id)


@router.get(BASE + "/{resource_id:id}")
async def edit_resource(request: Request, resource_id: int) -> Response:
    who = await run_in_threadpool(visitor, request)
    return _form(request, who, await run_in_threadpool(_visible, request, who, resource_id))


@router.post(BASE + "/{resource_id:id}")
async def update_resource(request: Request, resource_id: int) -> Response:
    who = await run_in_threadpool(visitor, request)
    form = form_values(await checked_pairs(request, session_binding(who.session_id)))
    rt = request.app.state.runtime

    def update():
        with rt.db.session() as s:
            current = rt.resources.visible(s, who.principal, resource_id)
            values = {"name": form["name"], "access_token_ttl": _ttl(form["access_token_ttl"]),
                      "introspection": form["introspection"]}
            if not current.builtin:
                values["scopes"] = form["scopes"]
            return rt.resources.update(s, who.principal, resource_id, values)

    try:
        row = await run_in_threadpool(update)
    except (Invalid, Forbidden, Conflict) as error:
        resource = await run_in_threadpool(_visible, request, who, resource_id)
        form["identifier"] = resource.identifier
        return _form(request, who, resource, form, error, status=_status(error))
    return redirect(request, BASE, f"Resource “{row.name}” saved.")


def _resource_name(resource_id: int):
    return lambda rt, s, me: rt.resources.visible(s, me, resource_id).name


@router.get(BASE + "/{resource_id:id}/delete")
async def confirm_delete(request: Request, resource_id: int) -> Response:
    return await ask(request, _resource_name(resource_id), title="Delete resource", button="Delete resource",
                     question="Delete “{name}”? Clients can no longer ask for tokens for it; tokens already "
                              "issued for it work until they expire.",
                     action=f"{BASE}/{resource_id}/delete", cancel=f"{BASE}/{resource_id}")


@router.post(BASE + "/{resource_id:id}/delete")
async def delete_resource(request: Request, resource_id: int) -> Response:
    return await carry_out(request, _resource_name(resource_id),
                           lambda rt, s, me: rt.resources.delete(s, me, resource_id),
                           then=BASE, flash="Resource “{name}” deleted.")
