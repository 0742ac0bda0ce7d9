"""``/admin/identity-providers``: the upstream identity providers people may sign in with — list, add, edit,
disable and enable, delete (each of the last three asked for on a confirmation page). ``ProviderService`` decides
everything, as for the API and the CLI: only administrators, what a setting may be, a free name. Before a save the
provider's discovery document is read (``check_discovery``, unless the box is unchecked), outside the write
transaction; a refused change shows the form again with the reason. The client secret is written, never shown
(``web/pages/provider_form.py``).

An LDAP directory (kind ``ldap``) is added and edited here too (``/new?kind=ldap`` is its form): its rows are the
directory URL, bind DN, write-only bind password and the ``directory`` settings; it has no discovery document and
no callback URL."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from authgate.services.directory.settings import LDAP
from authgate.services.errors import Conflict, Invalid
from authgate.services.federation.providers import public_view
from authgate.services.federation.sign_in import callback_path
from authgate.web.http.error_format import ErrorFormat
from authgate.web.pages import provider_form
from authgate.web.pages.confirm import ask, carry_out
from authgate.web.pages.csrf import checked_pairs, session_binding
from authgate.web.pages.flash import redirect
from authgate.web.pages.templates import page
from authgate.web.pages.visitor import visitor

router = APIRouter(include_in_schema=False, route_class=ErrorFormat.PAGE.route_class)

BASE = "/admin/identity-providers"


def _status(error: Exception) -> int:
    return 409 if isinstance(error, Conflict) else 422


def _callback(request: Request, name: str) -> str:
    return request.app.state.runtime.settings.issuer + callback_path(name)


@router.get(BASE)
async def identity_providers(request: Request) -> Response:
    who = await run_in_threadpool(visitor, request)
    rt = request.app.state.runtime

    def listed():
        with rt.db.session(write=False) as s:
            return [{**public_view(row), "callback": _callback(request, row.name)}
                    for row in rt.providers.list(s, who.principal)]

    return page(request, who, "admin_identity_providers.html", providers=await run_in_threadpool(listed))


def _form(request, who, provider=None, form=None, error=None, status=200, kind=None):
    if form is None:
        form = provider_form.blank(kind) if provider is None else provider_form.shown(provider)
    if provider is not None:
        kind = provider.kind
    action = f"{BASE}/new" if provider is None else f"{BASE}/{provider.id}"
    callback = _callback(request, provider.name) if provider and kind != LDAP else None
    return page(request, who, "admin_identity_provider_form.html", status=status, form=form, error=error,
                provider=provider, action=action, callback=callback, kind=kind,
                secret_set=bool(provider and provider.client_secret), **provider_form.choices(kind))


@router.get(f"{BASE}/new")
async def new_provider(request: Request) -> Response:
    who = await run_in_threadpool(visitor, request)
    request.app.state.runtime.providers.require_manager(who.principal, "add an identity provider")
    return _form(request, who, kind=request.query_params.get("kind"))


@router.post(f"{BASE}/new")
async def create_provider(request: Request) -> Response:
    who = await run_in_threadpool(visitor, request)
    form, values = provider_form.read(await checked_pairs(request, session_binding(who.session_id)), new=True)
    rt = request.app.state.runtime

    def create():
        if form[provider_form.CHECK_DISCOVERY]:
            rt.providers.check_discovery(who.principal, values)
        with rt.db.session() as s:
            return rt.providers.create(s, values.pop("name"), values.pop("issuer"), values.pop("client_id"),
                                       values.pop("client_secret"), actor=who.principal, **values)

    try:
        row = await run_in_threadpool(create)
    except (Invalid, Conflict) as error:
        return _form(request, who, None, form, error, status=_status(error), kind=form.get("kind"))
    if row.kind == LDAP:
        return redirect(request, BASE, f"LDAP directory “{row.name}” added: its people may sign in with their "
                                       "directory password.")
    return redirect(request, BASE, f"Identity provider “{row.name}” added. Register its callback URL at the "
                                   f"provider: {_callback(request, row.name)}")


def _visible(request, who, provider_id: int):
    rt = request.app.state.runtime
    with rt.db.session(write=False) as s:
        return rt.providers.visible(s, who.principal, provider_id)


@router.get(BASE + "/{provider_id:id}")
async def edit_provider(request: Request, provider_id: int) -> Response:
    who = await run_in_threadpool(visitor, request)
    rt = request.app.state.runtime

    def shown():
        with rt.db.session(write=False) as s:
            provider = rt.providers.visible(s, who.principal, provider_id)
            return provider, provider_form.shown(provider, rt.providers.described(s, provider)["group_mappings"])

    provider, form = await run_in_threadpool(shown)
    return _form(request, who, provider, form)


@router.post(BASE + "/{provider_id:id}")
async def update_provider(request: Request, provider_id: int) -> Response:
    who = await run_in_threadpool(visitor, request)
    pairs = await checked_pairs(request, session_binding(who.session_id))
    current = await run_in_threadpool(_visible, request, who, provider_id)
    form, values = provider_form.read(pairs, new=False, kind=current.kind)
    rt = request.app.state.runtime

    def update():
        if form[provider_form.CHECK_DISCOVERY]:
            rt.providers.check_discovery(who.principal, values, _visible(request, who, provider_id))
        with rt.db.session() as s:
            return rt.providers.update(s, who.principal, provider_id, values)

    try:
        row = await run_in_threadpool(update)
    except (Invalid, Conflict) as error:
        provider = await run_in_threadpool(_visible, request, who, provider_id)
        return _form(request, who, provider, form, error, status=_status(error))
    return redirect(request, BASE, f"Identity provider “{row.name}” saved.")


def _provider_name(provider_id: int):
    return lambda rt, s, me: rt.providers.visible(s, me, provider_id).name


def _turn(provider_id: int, enabled: bool):
    return lambda rt, s, me: rt.providers.update(s, me, provider_id, {"enabled": enabled})


@router.get(BASE + "/{provider_id:id}/disable")
async def confirm_disable(request: Request, provider_id: int) -> Response:
    return await ask(request, _provider_name(provider_id), title="Disable identity provider", button="Disable",
                     question="Disable “{name}”? Its button leaves the sign-in page and nobody can sign in through it; "
                              "its users keep their accounts and links, and may sign in another way.",
                     action=f"{BASE}/{provider_id}/disable", cancel=f"{BASE}/{provider_id}")


@router.post(BASE + "/{provider_id:id}/disable")
async def disable_provider(request: Request, provider_id: int) -> Response:
    return await carry_out(request, _provider_name(provider_id), _turn(provider_id, False),
                           then=f"{BASE}/{provider_id}", flash="Identity provider “{name}” disabled.")


@router.get(BASE + "/{provider_id:id}/enable")
async def confirm_enable(request: Request, provider_id: int) -> Response:
    return await ask(request, _provider_name(provider_id), title="Enable identity provider", button="Enable",
                     question="Enable “{name}” again? Its button comes back on the sign-in page.",
                     action=f"{BASE}/{provider_id}/enable", cancel=f"{BASE}/{provider_id}")


@router.post(BASE + "/{provider_id:id}/enable")
async def enable_provider(request: Request, provider_id: int) -> Response:
    return await carry_out(request, _provider_name(provider_id), _turn(provider_id, True),
                           then=f"{BASE}/{provider_id}", flash="Identity provider “{name}” enabled.")


@router.get(BASE + "/{provider_id:id}/delete")
async def confirm_delete(request: Request, provider_id: int) -> Response:
    return await ask(request, _provider_name(provider_id), title="Delete identity provider",
                     button="Delete identity provider",
                     question="Delete “{name}”? Its button leaves the sign-in page and the links of its users' "
                              "identities are deleted; the users keep their accounts and sign in another way.",
                     action=f"{BASE}/{provider_id}/delete", cancel=f"{BASE}/{provider_id}")


@router.post(BASE + "/{provider_id:id}/delete")
async def delete_provider(request: Request, provider_id: int) -> Response:
    return await carry_out(request, _provider_name(provider_id),
                           lambda rt, s, me: rt.providers.delete(s, me, provider_id),
                           then=BASE, flash="Identity provider “{name}” deleted.")
