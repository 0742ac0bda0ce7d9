"""``/oauth/register`` (RFC 7591 §3) and each registered client's configuration endpoint
``/oauth/register/{client_id}`` (RFC 7592 §2): JSON in, JSON out, never cached; the work is
``oauth/clients/registration.py``'s. Browser apps may call them (CORS without credentials: ``web/http/cors.py``)."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from authgate.oauth.clients import registration
from authgate.oauth.endpoints.metadata import PATHS
from authgate.web.http.error_format import ErrorFormat
from authgate.web.http.oauth_json import NO_STORE, oauth_json
from authgate.web.pages.forms import client_ip

router = APIRouter(include_in_schema=False, route_class=ErrorFormat.OAUTH.route_class)
client_router = APIRouter(include_in_schema=False, route_class=ErrorFormat.JSON.route_class)

MAX_BODY_BYTES = 64 * 1024
TOO_LARGE = (400, {"error": "invalid_client_metadata",
                   "error_description": f"The client metadata is larger than {MAX_BODY_BYTES} bytes."}, [])
PATH = PATHS["registration_endpoint"]


async def _body(request: Request) -> bytes | None:
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY_BYTES:
            return None
    return bytes(body)


def _answer(status: int, body, headers) -> Response:
    if body is None:
        return Response(status_code=status, headers={**NO_STORE, **dict(headers)})
    return oauth_json(status, body, headers)


@router.post(PATH)
async def register(request: Request) -> Response:
    body = await _body(request)
    if body is None:
        return _answer(*TOO_LARGE)
    runtime = request.app.state.runtime
    return _answer(*await run_in_threadpool(registration.register, runtime, body,
                                            request.headers.get("authorization"), client_ip(request)))


@client_router.get(PATH + "/{client_id}")
async def read(request: Request, client_id: str) -> Response:
    runtime = request.app.state.runtime
    return _answer(*await run_in_threadpool(registration.read, runtime, client_id,
                                            request.headers.get("authorization")))


@client_router.put(PATH + "/{client_id}")
async def update(request: Request, client_id: str) -> Response:
    body = await _body(request)
    if body is None:
        return _answer(*TOO_LARGE)
    runtime = request.app.state.runtime
    return _answer(*await run_in_threadpool(registration.update, runtime, client_id,
                                            request.headers.get("authorization"), body))


@client_router.delete(PATH + "/{client_id}")
async def delete(request: Request, client_id: str) -> Response:
    runtime = request.app.state.runtime
    return _answer(*await run_in_threadpool(registration.delete, runtime, client_id,
                                            request.headers.get("authorization")))
