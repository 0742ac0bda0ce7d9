"""``/admin/auth-clients``: client applications for administrators — list (search, pages), register
(the secret shown once), edit, regenerate the secret, delete. ``ClientService`` checks the
``*-auth_clients`` permissions, exactly as for the API; a refused change (bad input, or a directory
read the visitor may not give) shows the form again with the reason. Disable and enable (``edit-auth_clients``)
are asked for on a confirmation page. A client is addressed by ``client_key``: a client known by its metadata
document (its ``client_id`` a URL) as ``doc-<n>``; its page shows what the document says, with no form."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from authgate.oauth.grants.registry import GRANTS
from authgate.services.applications.clients import REQUIREMENTS, client_key
from authgate.services.applications.logout_uris import FIELDS as LOGOUT_FIELDS, logout_view
from authgate.services.credentials import scopes as scope_rules
from authgate.services.errors import Forbidden, Invalid
from authgate.web.pages.admin_lists import list_context, list_query
from authgate.web.pages.confirm import ask, carry_out
from authgate.web.pages.csrf import checked_pairs, session_binding
from authgate.web.http.error_format import ErrorFormat
from authgate.web.pages.flash import redirect
from authgate.web.pages.shown_once import show_once
from authgate.web.pages.templates import page
from authgate.web.pages.visitor import permitted_visitor, signed_in_form, visitor

router = APIRouter(include_in_schema=False, route_class=ErrorFormat.PAGE.route_class)

BASE = "/admin/auth-clients"
SORTABLE = ("name", "client_id", "created_at")


def form_choices() -> dict:
    return {"grant_labels": GRANTS.labels(), "scope_choices": scope_rules.describe(list(scope_rules.DESCRIPTIONS))}


def form_values(pairs: list[tuple[str, str]]) -> dict:
    fields = dict(reversed(pairs))
    return {
        "name": fields.get("name", ""),
        "redirect_uris": [line.strip() for line in fields.get("redirect_uris", "").splitlines() if line.strip()],
        "grants": [v for k, v in pairs if k == "grants"],
        "scopes": [v for k, v in pairs if k == "scopes"],
        "public": fields.get("kind") == "public",
        "post_logout_redirect_uris": [line.strip() for line in fields.get("post_logout_redirect_uris", "").splitlines()
                                      if line.strip()],
        "backchannel_logout_uri": fields.get("backchannel_logout_uri", "").strip() or None,
        "backchannel_logout_session_required": bool(fields.get("backchannel_logout_session_required")),
        "require_par": bool(fields.get("require_par")),
        "require_dpop": bool(fields.get("require_dpop")),
        "require_request_object": bool(fields.get("require_request_object")),
        "profile": "fapi2" if fields.get("profile") == "fapi2" else "none",
    }


@router.get(BASE)
async def clients(request: Request) -> Response:
    who = await run_in_threadpool(visitor, request)
    rt = request.app.state.runtime
    query = list_query(request, "name", sortable=SORTABLE)

    def load():
        with rt.db.session(write=False) as s:
            return rt.clients.page(s, who.principal, query)

    result = await run_in_threadpool(load)
    return page(request, who, "admin_clients.html", clients=result.items, grant_labels=GRANTS.labels(), key_of=client_key,
                **list_context(BASE, query, result, sortable=SORTABLE, default_order="name"))


def _status(error: Invalid | Forbidden) -> int:
    return 403 if isinstance(error, Forbidden) else 422


def _new_form(request, who, form=None, error=None, status=200):
    form = form or {"name": "", "redirect_uris": [], "grants": ["authorization_code", "refresh_token"], "scopes": [],
                    "public": False, "post_logout_redirect_uris": [], "backchannel_logout_uri": None,
                    "backchannel_logout_session_required": False}
    return page(request, who, "admin_client_form.html", status=status, form=form, error=error, client=None,
                action=f"{BASE}/new", **form_choices())


@router.get(f"{BASE}/new")
async def new_client(request: Request) -> Response:
    return _new_form(request, await permitted_visitor(request, "create-auth_clients"))


@router.post(f"{BASE}/new")
async def create_client(request: Request) -> Response:
    who = await run_in_threadpool(visitor, request)
    form = form_values(await checked_pairs(request, session_binding(who.session_id)))
    rt = request.app.state.runtime

    def create():
        with rt.db.session() as s:
            return rt.clients.create(
                s, form["name"], redirect_uris=form["redirect_uris"], grants=form["grants"] or None,
                scopes=form["scopes"], public=form["public"], owner_id=who.user.id, actor=who.principal,
                logout={k: form[k] for k in LOGOUT_FIELDS})

    try:
        client, secret = await run_in_threadpool(create)
    except (Invalid, Forbidden) as error:
        return _new_form(request, who, form, error, status=_status(error))
    details = [("Client ID", client.client_id), ("Name", client.name)]
    if secret is None:
        return redirect(request, f"{BASE}/{client_key(client)}", f"Public client “{client.name}” registered. It has no secret.")
    return await show_once(request, who, title="New client secret", heading=f"Client “{client.name}” registered",
                           what="client secret", label="Client secret", secret=secret, details=details,
                           back=f"{BASE}/{client_key(client)}", back_label="Done")


def _edit_form(request, who, client, form=None, error=None, status=200):
    form = form or {"name": client.name, "redirect_uris": client.redirect_uris, "grants": client.grants,
                    "scopes": client.scopes, "public": client.public, **logout_view(client),
                    "require_par": client.require_par, "require_dpop": client.require_dpop,
                    "require_request_object": client.require_request_object,
                    "profile": client.profile or "none"}
    return page(request, who, "admin_client_form.html", status=status, form=form, error=error, client=client,
                key=client_key(client), action=f"{BASE}/{client_key(client)}", **form_choices())


def _visible(request, who, client_id):
    rt = request.app.state.runtime
    with rt.db.session(write=False) as s:
        return rt.clients.visible(s, who.principal, client_id)


@router.get(BASE + "/{client_id}")
async def edit_client(request: Request, client_id: str) -> Response:
    who = await run_in_threadpool(visitor, request)
    client = await run_in_threadpool(_visible, request, who, client_id)
    return _edit_form(request, who, client)


@router.post(BASE + "/{client_id}")
async def update_client(request: Request, client_id: str) -> Response:
    who = await run_in_threadpool(visitor, request)
    form = form_values(await checked_pairs(request, session_binding(who.session_id)))
    rt = request.app.state.runtime

    def update():
        with rt.db.session() as s:
            values = {k: form[k] for k in ("name", "redirect_uris", "grants", "scopes", *LOGOUT_FIELDS, *REQUIREMENTS,
                                         "profile")}
            return rt.clients.update(s, who.principal, client_id, values)

    try:
        client = await run_in_threadpool(update)
    except (Invalid, Forbidden) as error:
        client = await run_in_threadpool(_visible, request, who, client_id)
        form["public"] = client.public
        return _edit_form(request, who, client, form, error, status=_status(error))
    return redirect(request, BASE, f"Client “{client.name}” saved.")


def _client_name(client_id: str):
    return lambda rt, s, me: rt.clients.visible(s, me, client_id).name


@router.get(BASE + "/{client_id}/secret")
async def confirm_regenerate(request: Request, client_id: str) -> Response:
    return await ask(request, _client_name(client_id), title="Regenerate secret", button="Regenerate secret",
                     question="Make a new secret for “{name}”? The current secret stops working at once.",
                     action=f"{BASE}/{client_id}/secret", cancel=f"{BASE}/{client_id}")


@router.post(BASE + "/{client_id}/secret")
async def regenerate(request: Request, client_id: str) -> Response:
    who, _ = await signed_in_form(request)
    rt = request.app.state.runtime

    def regenerate_secret():
        with rt.db.session() as s:
            return rt.clients.regenerate_secret(s, who.principal, client_id)

    client, secret = await run_in_threadpool(regenerate_secret)
    return await show_once(request, who, title="New client secret", heading=f"New secret for “{client.name}”",
                           what="client secret", label="Client secret", secret=secret,
                           details=[("Client ID", client.client_id)], back=f"{BASE}/{client_key(client)}",
                           back_label="Done")


@router.get(BASE + "/{client_id}/disable")
async def confirm_disable(request: Request, client_id: str) -> Response:
    return await ask(request, _client_name(client_id), title="Disable client", button="Disable client",
                     question="Disable “{name}”? It can no longer sign anyone in or get tokens, and every token it "
                              "holds stops working now; enabling it again does not bring those tokens back.",
                     action=f"{BASE}/{client_id}/disable", cancel=f"{BASE}/{client_id}")


@router.post(BASE + "/{client_id}/disable")
async def disable_client(request: Request, client_id: str) -> Response:
    return await carry_out(request, _client_name(client_id),
                           lambda rt, s, me: rt.clients.disable(s, me, client_id),
                           then=f"{BASE}/{client_id}", flash="Client “{name}” disabled; its tokens were revoked.")


@router.get(BASE + "/{client_id}/enable")
async def confirm_enable(request: Request, client_id: str) -> Response:
    return await ask(request, _client_name(client_id), title="Enable client", button="Enable client",
                     question="Enable “{name}” again? It may sign people in and get new tokens.",
                     action=f"{BASE}/{client_id}/enable", cancel=f"{BASE}/{client_id}")


@router.post(BASE + "/{client_id}/enable")
async def enable_client(request: Request, client_id: str) -> Response:
    return await carry_out(request, _client_name(client_id),
                           lambda rt, s, me: rt.clients.enable(s, me, client_id),
                           then=f"{BASE}/{client_id}", flash="Client “{name}” enabled.")


@router.get(BASE + "/{client_id}/delete")
async def confirm_delete(request: Request, client_id: str) -> Response:
    return await ask(request, _client_name(client_id), title="Delete client", button="Delete client",
                     question="Delete “{name}”? Every token it holds stops working, and it can no longer sign anyone in.",
                     action=f"{BASE}/{client_id}/delete", cancel=f"{BASE}/{client_id}")


@router.post(BASE + "/{client_id}/delete")
async def delete_client(request: Request, client_id: str) -> Response:
    return await carry_out(request, _client_name(client_id), lambda rt, s, me: rt.clients.delete(s, client_id, actor=me),
                           then=BASE, flash="Client “{name}” deleted.")
