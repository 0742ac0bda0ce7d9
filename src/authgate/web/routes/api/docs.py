"""``/api/documentation`` (Swagger UI), its OAuth redirect page ``/api/oauth2-callback`` and Swagger UI's
files, all from authgate itself (see ``web/jsonapi/docs.py``)."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, Response

from authgate.web.jsonapi import docs
from authgate.web.http.error_format import ErrorFormat
from authgate.web.pages.templates import render

router = APIRouter(include_in_schema=False, route_class=ErrorFormat.API.route_class)


def _docs_page(name: str, **context) -> Response:
    response = render(name, **context)
    response.headers["Content-Security-Policy"] = docs.CONTENT_SECURITY_POLICY
    return response


@router.get(docs.DOCS_PATH)
async def documentation(request: Request) -> Response:
    config = docs.swagger_config(request.app.state.runtime.settings.issuer, request.app.openapi_url)
    return _docs_page("api_docs.html", assets=docs.ASSETS_PATH, config=config)


@router.get(docs.OAUTH2_REDIRECT_PATH)
async def oauth2_callback() -> Response:
    return _docs_page("api_docs_callback.html", assets=docs.ASSETS_PATH)


@router.get(docs.ASSETS_PATH + "/{name}")
async def asset(name: str) -> Response:
    if name not in docs.ASSETS:
        raise HTTPException(404)
    return FileResponse(docs.ASSETS_DIR / name, headers={"Cache-Control": "public, max-age=86400"})
