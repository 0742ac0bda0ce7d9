"""Liveness (``/healthz``) and readiness (``/readyz``: database reachable, migrations current)."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from authgate.storage import migrate
from authgate.web.http.error_format import ErrorFormat

router = APIRouter(include_in_schema=False, route_class=ErrorFormat.JSON.route_class)


@router.get("/healthz")
async def healthz() -> dict:
    return {"status": "ok"}


@router.get("/readyz")
async def readyz(request: Request) -> Response:
    db = request.app.state.runtime.db

    def check() -> dict:
        try:
            db.ping()
        except Exception as error:
            return {"status": "unavailable", "database": f"unreachable ({type(error).__name__})", "migrations": "unknown"}
        try:
            current = migrate.is_current(db.engine)
        except Exception as error:
            return {"status": "unavailable", "database": "ok", "migrations": f"unknown ({type(error).__name__})"}
        return {"status": "ok" if current else "unavailable", "database": "ok",
                "migrations": "current" if current else "pending: run authgate db upgrade"}

    body = await run_in_threadpool(check)
    return JSONResponse(body, status_code=200 if body["status"] == "ok" else 503, headers={"Cache-Control": "no-store"})
