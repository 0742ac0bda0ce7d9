"""Discovery: RFC 8414 authorization server metadata, the OpenID Provider configuration and the JWKS
(RFC 7517 §5, the ``jwks_uri``)."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from authgate.oauth import metadata
from authgate.oauth.metadata import AUTHORIZATION_SERVER_PATH, OPENID_CONFIGURATION_PATH, PATHS
from authgate.web.http.error_format import ErrorFormat

router = APIRouter(include_in_schema=False, route_class=ErrorFormat.JSON.route_class)

CACHE = {"Cache-Control": "public, max-age=300"}


@router.get(AUTHORIZATION_SERVER_PATH)
@router.get(OPENID_CONFIGURATION_PATH)
async def server_metadata(request: Request) -> JSONResponse:
    runtime = request.app.state.runtime

    def build():
        with runtime.db.session(write=False) as s:
            return metadata.build(request.app.state.oauth, s)

    return JSONResponse(await run_in_threadpool(build), headers=CACHE)


@router.get(PATHS["jwks_uri"])
async def jwks(request: Request) -> Response:
    runtime = request.app.state.runtime

    def load():
        with runtime.db.session(write=False) as s:
            return runtime.keys.jwks(s)

    # a cache must look again before a key published ahead starts signing
    ahead = runtime.settings.key_publish_ahead
    max_age = min(300, ahead) if ahead else 300
    return JSONResponse(await run_in_threadpool(load), headers={"Cache-Control": f"public, max-age={max_age}"})
