"""``/admin/identity-providers``: the upstream identity providers people may sign in with, as a list for
administrators (``ProviderService`` refuses everyone else, as for the API). Adding and changing them is the CLI's
and the API's for now (``authgate providers``, ``/api/1.0/providers``)."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from authgate.services.federation.providers import public_view
from authgate.services.federation.sign_in import callback_path
from authgate.web.http.error_format import ErrorFormat
from authgate.web.pages.templates import page
from authgate.web.pages.visitor import visitor

router = APIRouter(include_in_schema=False, route_class=ErrorFormat.PAGE.route_class)


@router.get("/admin/identity-providers")
async def identity_providers(request: Request) -> Response:
    who = await run_in_threadpool(visitor, request)
    rt = request.app.state.runtime

    def listed():
        with rt.db.session(write=False) as s:
            return [{**public_view(row), "callback": rt.settings.issuer + callback_path(row.name)}
                    for row in rt.providers.list(s, who.principal)]

    return page(request, who, "admin_identity_providers.html", providers=await run_in_threadpool(listed))
