"""``ResourceServer.requires(*scopes)`` for FastAPI: a dependency that gives the route the request's
``AccessToken``, or answers 401/403 with the ``WWW-Authenticate`` of RFC 6750 §3 and RFC 9728 §5.1."""

from __future__ import annotations

from fastapi import HTTPException, Request
from starlette.concurrency import run_in_threadpool

from authgate_client.resource_server import refusals
from authgate_client.resource_server.asgi import verify_request


def dependency(guard, scopes):
    async def access_token(request: Request):
        try:
            token = await run_in_threadpool(verify_request, guard, request.scope)
            guard.check_scopes(token, scopes)
        except refusals.TokenRefused as refused:
            raise HTTPException(refused.status, detail=refused.body(),
                                headers={"WWW-Authenticate": refused.challenge(guard.metadata_url)})
        return token

    return access_token
