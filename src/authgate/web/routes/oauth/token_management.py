"""Client-authenticated POSTs beside the token endpoint: ``/oauth/revoke`` (RFC 7009), ``/oauth/introspect``
(RFC 7662) and the device authorization endpoint ``/oauth/device`` (RFC 8628 §3.1).

``web/oauth_lane.py`` answers them ahead of the router (introspection of a cached JWT by a cached client on
the event loop, with no session: ``oauth/introspection.answer_from_memory``); these routes, which give the same
answer, stay for the other methods' 405 and for an app without the lane."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from authgate.oauth.endpoints.metadata import PATHS
from authgate.web.http.error_format import ErrorFormat
from authgate.web.oauth_lane import route_answer

router = APIRouter(include_in_schema=False, route_class=ErrorFormat.OAUTH.route_class)


@router.post(PATHS["revocation_endpoint"])
async def revoke(request: Request) -> Response:
    return await route_answer(request, PATHS["revocation_endpoint"])


@router.post(PATHS["introspection_endpoint"])
async def introspect(request: Request) -> Response:
    return await route_answer(request, PATHS["introspection_endpoint"])


@router.post(PATHS["device_authorization_endpoint"])
async def device_authorization(request: Request) -> Response:
    """RFC 8628 §3.1: a device asks for a device code and a user code."""
    return await route_answer(request, PATHS["device_authorization_endpoint"])
