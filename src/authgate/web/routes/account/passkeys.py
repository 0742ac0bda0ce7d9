"""Passkeys on ``/profile``: register one (the browser's ``navigator.credentials.create`` between two requests:
the options, then the answer, put in the form by ``/static/passkeys.js``) with the current password, rename one,
remove one with the current password. ``PasskeyService`` holds every rule; these routes convert the form and render its answer."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from authgate.services.errors import Invalid
from authgate.web.http.error_format import ErrorFormat
from authgate.web.pages.flash import redirect
from authgate.web.pages.templates import page
from authgate.web.pages.visitor import Visitor, signed_in_form, visitor

router = APIRouter(include_in_schema=False, route_class=ErrorFormat.PAGE.route_class)

BASE = "/profile/passkeys"


def webauthn_options(options: str) -> Response:
    """WebAuthn options as the browser script reads them; never cached (each holds a single-use challenge)."""
    return Response(options, media_type="application/json", headers={"Cache-Control": "no-store"})


@router.post(BASE + "/options")
async def registration_options(request: Request) -> Response:
    who, _ = await signed_in_form(request)
    rt = request.app.state.runtime

    def options():
        with rt.db.session() as s:
            return rt.passkeys.registration_options(s, who.principal)

    return webauthn_options(await run_in_threadpool(options))


@router.post(BASE)
async def register(request: Request) -> Response:
    who, fields = await signed_in_form(request)
    rt = request.app.state.runtime

    def add():
        with rt.db.session() as s:
            return rt.passkeys.register(s, who.principal, fields.get("credential", ""), fields.get("name", ""),
                                        fields.get("current_password")).name

    try:
        name = await run_in_threadpool(add)
    except Invalid as error:
        return redirect(request, "/profile", str(error))
    return redirect(request, "/profile", f"Passkey “{name}” added: sign in with it alone, or after your password.")


def _rename_page(request: Request, who: Visitor, passkey, error: Invalid | None = None, status: int = 200,
                 name: str | None = None) -> Response:
    return page(request, who, "passkey_rename.html", status=status, passkey=passkey, error=error,
                name=passkey.name if name is None else name, action=f"{BASE}/{passkey.id}/rename")


def _load(request: Request, who: Visitor, passkey_id: int):
    rt = request.app.state.runtime
    with rt.db.session(write=False) as s:
        return rt.passkeys.get(s, who.principal, passkey_id)


@router.get(BASE + "/{passkey_id:id}/rename")
async def rename_page(request: Request, passkey_id: int) -> Response:
    who = await run_in_threadpool(visitor, request)
    return _rename_page(request, who, await run_in_threadpool(_load, request, who, passkey_id))


@router.post(BASE + "/{passkey_id:id}/rename")
async def rename(request: Request, passkey_id: int) -> Response:
    who, fields = await signed_in_form(request)
    rt = request.app.state.runtime

    def save():
        with rt.db.session() as s:
            return rt.passkeys.rename(s, who.principal, passkey_id, fields.get("name", "")).name

    try:
        name = await run_in_threadpool(save)
    except Invalid as error:
        passkey = await run_in_threadpool(_load, request, who, passkey_id)
        return _rename_page(request, who, passkey, error, 422, fields.get("name", ""))
    return redirect(request, "/profile", f"Passkey renamed “{name}”.")


def _remove_page(request: Request, who: Visitor, passkey, error: Invalid | None = None, status: int = 200):
    return page(request, who, "factor_password.html", status=status, danger=True, error=error,
                title="Remove passkey", action=f"{BASE}/{passkey.id}/remove", button="Remove passkey",
                question=f"Remove the passkey “{passkey.name}”? It will no longer sign you in.")


@router.get(BASE + "/{passkey_id:id}/remove")
async def remove_page(request: Request, passkey_id: int) -> Response:
    who = await run_in_threadpool(visitor, request)
    return _remove_page(request, who, await run_in_threadpool(_load, request, who, passkey_id))


@router.post(BASE + "/{passkey_id:id}/remove")
async def remove(request: Request, passkey_id: int) -> Response:
    who, fields = await signed_in_form(request)
    rt = request.app.state.runtime

    def drop():
        with rt.db.session() as s:
            return rt.passkeys.remove(s, who.principal, passkey_id, fields.get("current_password", ""))

    try:
        name = await run_in_threadpool(drop)
    except Invalid as error:
        passkey = await run_in_threadpool(_load, request, who, passkey_id)
        return _remove_page(request, who, passkey, error, 422)
    return redirect(request, "/profile", f"Passkey “{name}” removed.")
