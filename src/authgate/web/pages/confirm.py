"""Actions that cannot be undone (delete, revoke, regenerate), in two steps: ``ask`` shows
``confirm.html`` naming the record, and ``carry_out`` acts once the form passes ``signed_in_form()``,
then redirects with a flash message.

A page passes the services' calls as ``name_of(rt, s, me)`` (the record's name; a record the
visitor may not see raises) and ``act(rt, s, me)``; ``{name}`` in the wording is that name."""

from __future__ import annotations

from typing import Any, Callable

from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from authgate.services.accounts.people.principal import Principal
from authgate.services.runtime import Runtime
from authgate.web.pages.flash import redirect
from authgate.web.pages.templates import page
from authgate.web.pages.visitor import signed_in_form, visitor

Step = Callable[[Runtime, Session, Principal], Any]


async def ask(request: Request, name_of: Step, *, title: str, question: str, button: str, action: str,
              cancel: str) -> Response:
    who = await run_in_threadpool(visitor, request)
    rt = request.app.state.runtime

    def load():
        with rt.db.session(write=False) as s:
            return name_of(rt, s, who.principal)

    name = await run_in_threadpool(load)
    return page(request, who, "confirm.html", title=title, question=question.format(name=name),
                action=action, button=button, cancel=cancel)


async def carry_out(request: Request, name_of: Step, act: Step, *, then: str, flash: str) -> Response:
    who, _ = await signed_in_form(request)
    rt = request.app.state.runtime

    def run():
        with rt.db.session() as s:
            name = name_of(rt, s, who.principal)
            act(rt, s, who.principal)
            return name

    name = await run_in_threadpool(run)
    return redirect(request, then, flash.format(name=name))
