"""The bearer check for every API endpoint (RFC 6750): a FastAPI dependency naming the scope it needs."""

from __future__ import annotations

from fastapi import Request
from starlette.concurrency import run_in_threadpool

from authgate.services import scopes as scope_rules
from authgate.services.bearer import InvalidToken, Principal

REALM = 'realm="authgate"'


class BearerError(Exception):
    """Answered as JSON with ``WWW-Authenticate`` by the app's error handler."""

    def __init__(self, status: int, body: dict, challenge: str):
        self.status = status
        self.body = body
        self.challenge = challenge


def _quoted(text: str) -> str:
    return text.replace("\\", "").replace('"', "'")


def unauthenticated(description: str | None = None) -> BearerError:
    challenge = f"Bearer {REALM}"
    if description:
        challenge += f', error="invalid_token", error_description="{_quoted(description)}"'
    return BearerError(401, {"error": "Unauthenticated."}, challenge)


def _token_from(request: Request) -> str:
    header = request.headers.get("authorization")
    if header is None:
        raise unauthenticated()
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise BearerError(
            400 if scheme.lower() == "bearer" else 401,
            {"error": "Unauthenticated."},
            f'Bearer {REALM}, error="invalid_request", error_description="Authorization header must be Bearer"',
        )
    return token.strip()


class RequireScope:
    """``Depends(RequireScope("users:read"))``: the principal behind a valid token holding that scope."""

    def __init__(self, scope: str, *, user_required: bool = False):
        self.scope = scope
        self.user_required = user_required

    async def __call__(self, request: Request) -> Principal:
        token = _token_from(request)
        runtime = request.app.state.runtime

        try:
            principal = await run_in_threadpool(runtime.bearer.authenticate, token)
        except InvalidToken as error:
            raise unauthenticated(str(error)) from None
        if not scope_rules.grants(list(principal.scopes), self.scope):
            raise BearerError(
                403,
                {"error": "insufficient_scope", "message": f"This action is unauthorized: the token needs the scope {self.scope}."},
                f'Bearer {REALM}, error="insufficient_scope", scope="{self.scope}"',
            )
        if self.user_required and principal.user is None:
            raise BearerError(
                403,
                {"message": "This endpoint is about a user; a client credentials token has none."},
                f'Bearer {REALM}, error="insufficient_scope"',
            )
        return principal
