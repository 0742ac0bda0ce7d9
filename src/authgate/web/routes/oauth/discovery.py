"""Discovery: RFC 8414 authorization server metadata, the OpenID Provider configuration, the JWKS
(RFC 7517 §5, the ``jwks_uri``) and the protected resource metadata of authgate's own API (RFC 9728).

An issuer with a path (``https://host/auth``) has its RFC 8414 document at the path-inserted URL
(§3.1: ``/.well-known/oauth-authorization-server/auth``); the API's metadata is at its identifier's
path-inserted URL (RFC 9728 §3.1: ``/.well-known/oauth-protected-resource/api/1.0``) and at the bare
well-known path.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from authgate.oauth.endpoints import metadata, protected_resource
from authgate.oauth.endpoints.metadata import AUTHORIZATION_SERVER_PATH, OPENID_CONFIGURATION_PATH, PATHS
from authgate.oauth.endpoints.protected_resource import PROTECTED_RESOURCE_PATH
from authgate.web.http.error_format import ErrorFormat

router = APIRouter(include_in_schema=False, route_class=ErrorFormat.JSON.route_class)

CACHE = {"Cache-Control": "public, max-age=300"}
NOT_FOUND = {"error": "Not Found"}


async def _server_metadata(request: Request) -> JSONResponse:
    runtime = request.app.state.runtime

    def build():
        with runtime.db.session(write=False) as s:
            return metadata.build(request.app.state.oauth, s)

    return JSONResponse(await run_in_threadpool(build), headers=CACHE)


@router.get(AUTHORIZATION_SERVER_PATH)
@router.get(OPENID_CONFIGURATION_PATH)
async def server_metadata(request: Request) -> JSONResponse:
    return await _server_metadata(request)


@router.get(AUTHORIZATION_SERVER_PATH + "/{issuer_path:path}")
async def server_metadata_path_inserted(request: Request, issuer_path: str) -> JSONResponse:
    """RFC 8414 §3.1: the document of an issuer with a path, that path after the well-known segment."""
    own = urlsplit(request.app.state.runtime.settings.issuer).path.rstrip("/")
    if not own or "/" + issuer_path.rstrip("/") != own:
        return JSONResponse(NOT_FOUND, status_code=404)
    return await _server_metadata(request)


def _own_api_metadata(request: Request) -> JSONResponse:
    runtime = request.app.state.runtime
    document = protected_resource.document(runtime.settings.issuer, runtime.resources.own_identifier)
    return JSONResponse(document, headers=CACHE)


@router.get(PROTECTED_RESOURCE_PATH)
async def api_metadata(request: Request) -> JSONResponse:
    """RFC 9728 §3: authgate's API is the resource this host serves."""
    return _own_api_metadata(request)


@router.get(PROTECTED_RESOURCE_PATH + "/{resource_path:path}")
async def api_metadata_path_inserted(request: Request, resource_path: str) -> JSONResponse:
    """RFC 9728 §3.1: the path of the API's identifier after the well-known segment."""
    own = protected_resource.path_suffix(request.app.state.runtime.resources.own_identifier)
    if "/" + resource_path.rstrip("/") != own:
        return JSONResponse(NOT_FOUND, status_code=404)
    return _own_api_metadata(request)


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
