"""``POST /oauth/par``: pushed authorization requests (RFC 9126 §2); the rules are ``oauth/authorization/par.py``'s."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from authgate.oauth.authorization import par
from authgate.oauth.endpoints.metadata import PATHS
from authgate.oauth.requests import OAuthRequest
from authgate.web.http.error_format import ErrorFormat
from authgate.web.http.oauth_json import oauth_json
from authgate.web.pages.forms import BadForm, client_ip, read_form

router = APIRouter(include_in_schema=False, route_class=ErrorFormat.TOKEN.route_class)


@router.post(PATHS["pushed_authorization_request_endpoint"])
async def pushed_authorization_request(request: Request) -> Response:
    try:
        form = await read_form(request)
    except BadForm as error:
        return oauth_json(400, {"error": "invalid_request", "error_description": str(error)}, [])
    runtime, server = request.app.state.runtime, request.app.state.oauth
    uri = runtime.settings.issuer + PATHS["pushed_authorization_request_endpoint"]
    oauth_request = OAuthRequest(None, "POST", uri, request.headers, [], form, "form", client_ip=client_ip(request))
    return oauth_json(*await run_in_threadpool(par.push, server, oauth_request))
