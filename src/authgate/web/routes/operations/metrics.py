"""``/metrics``: the Prometheus text of ``web/http/observability.py``."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import Response

from authgate.web.http.error_format import ErrorFormat
from authgate.web.http.observability import metrics_body

router = APIRouter(include_in_schema=False, route_class=ErrorFormat.PAGE.route_class)


@router.get("/metrics")
async def metrics() -> Response:
    body, content_type = metrics_body()
    return Response(body, media_type=content_type, headers={"Cache-Control": "no-store"})
