"""Client-authenticated POSTs beside the token endpoint: ``/oauth/revoke`` (RFC 7009), ``/oauth/introspect``
(RFC 7662) and the device authorization endpoint ``/oauth/device`` (RFC 8628 §3.1).

Introspection, which only reads, is first answered on the event loop by the memory-only introspector
(client and token both cached: ``oauth/introspection.answer_from_memory``); only when memory cannot
answer does it open a session, in the thread pool."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from authgate.oauth.endpoints.introspection import answer_from_memory
from authgate.oauth.endpoints.metadata import PATHS
from authgate.oauth.requests import OAuthRequest
from authgate.web.http.error_format import ErrorFormat
from authgate.web.http.oauth_json import oauth_json
from authgate.web.pages.forms import BadForm, client_ip, read_form

router = APIRouter(include_in_schema=False, route_class=ErrorFormat.OAUTH.route_class)


async def _endpoint(request: Request, name: str) -> Response:
    try:
        form = await read_form(request)
    except BadForm as error:
        return oauth_json(400, {"error": "invalid_request", "error_description": str(error)}, [])
    runtime, server = request.app.state.runtime, request.app.state.oauth
    uri = runtime.settings.issuer + request.url.path

    def oauth_request(s):
        return OAuthRequest(s, "POST", uri, request.headers, [], form, "form", client_ip=client_ip(request))

    if name == "introspection":
        remembered = answer_from_memory(runtime, oauth_request(None))
        if remembered is not None:
            return oauth_json(*remembered)

    def respond(s):
        return server.endpoint_response(name, oauth_request(s))

    def answer():
        with runtime.db.session(write=name != "introspection") as s:
            return respond(s)

    return oauth_json(*await run_in_threadpool(answer))


@router.post(PATHS["revocation_endpoint"])
async def revoke(request: Request) -> Response:
    return await _endpoint(request, "revocation")


@router.post(PATHS["introspection_endpoint"])
async def introspect(request: Request) -> Response:
    return await _endpoint(request, "introspection")


@router.post(PATHS["device_authorization_endpoint"])
async def device_authorization(request: Request) -> Response:
    """RFC 8628 §3.1: a device asks for a device code and a user code."""
    return await _endpoint(request, "device_authorization")
