"""Discovery: RFC 8414 authorization server metadata and the OpenID Provider configuration."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse

from authgate.oauth import metadata
from authgate.oauth.metadata import AUTHORIZATION_SERVER_PATH, OPENID_CONFIGURATION_PATH

router = APIRouter(include_in_schema=False)

CACHE = {"Cache-Control": "public, max-age=300"}


@router.get(AUTHORIZATION_SERVER_PATH)
@router.get(OPENID_CONFIGURATION_PATH)
async def server_metadata(request: Request) -> JSONResponse:
    runtime = request.app.state.runtime

    def build():
        with runtime.db.session(write=False) as s:
            return metadata.build(request.app.state.oauth, s)

    return JSONResponse(await run_in_threadpool(build), headers=CACHE)
