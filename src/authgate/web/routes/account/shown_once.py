"""``/shown-once``: where making a token or a client secret redirects, to show it once (``web/pages/shown_once.py``)."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from authgate.web.http.error_format import ErrorFormat
from authgate.web.pages.shown_once import PAGE, shown_page
from authgate.web.pages.visitor import visitor

router = APIRouter(include_in_schema=False, route_class=ErrorFormat.PAGE.route_class)


@router.get(PAGE)
async def shown_once(request: Request) -> Response:
    return await shown_page(request, await run_in_threadpool(visitor, request))
