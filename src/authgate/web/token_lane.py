"""The token endpoint on the plain ASGI path: ``POST /oauth/token`` answered ahead of FastAPI's router.

The endpoint has no path parameters, no dependencies and no response model, so FastAPI's routing,
dependency solving and request wrapping are pure overhead on the busiest write path (``docs/performance.md``).
This lane, the innermost middleware (inside the request id, body limit, NUL refusal and audit origin), reads
the form itself and hands the one blocking part — ``AuthorizationServer.token_response``, which waits on the
database and, for the password grant, a password hash — to a small pool of its own threads
(``TOKEN_THREADS``, with the request's context variables, so audit rows keep their address and request id).
A small pool keeps few threads contending for the GIL under load, where a 40-thread pool spends CPU
switching between them; the password grant's hash releases the GIL, so two cores still hash side by side.

The answer is what the FastAPI route (``routes/oauth/flows.py``, still registered: it answers other methods
with 405 and documents the path) gives: the same ``exchange``, the same OAuth JSON, the same metrics
(``scope["route"]`` is that route, so ``Observability`` labels it and ``ErrorFormats`` finds its format).
An exception is answered by the app's own exception handlers, looked up as Starlette would (a database that
cannot be reached is ``temporarily_unavailable``, anything unforeseen a 500 without a trace).
"""

from __future__ import annotations

import asyncio
import contextvars
from concurrent.futures import ThreadPoolExecutor

from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from authgate.oauth.endpoints.metadata import PATHS
from authgate.oauth.requests import OAuthRequest
from authgate.web.http.oauth_json import oauth_json
from authgate.web.http.observability import token_outcome
from authgate.web.pages.forms import MAX_BODY_BYTES, BadForm, check_form_type, parse_form

TOKEN_PATH = PATHS["token_endpoint"]
TOKEN_THREADS = 8
_pool = ThreadPoolExecutor(max_workers=TOKEN_THREADS, thread_name_prefix="authgate-token")


async def run_in_threadpool(function, *args):
    """``function(*args)`` on the lane's threads, in a copy of the caller's context."""
    context = contextvars.copy_context()
    return await asyncio.get_running_loop().run_in_executor(_pool, context.run, function, *args)


def exchange(runtime, server, headers, form: list[tuple[str, str]], client_ip: str | None):
    """The token endpoint's answer (status, body, headers) to a form already read; blocks (run it off the loop)."""
    uri = runtime.settings.issuer + TOKEN_PATH
    return server.token_response(runtime.db, OAuthRequest(None, "POST", uri, headers, [], form, "form",
                                                          client_ip=client_ip))


def refusal(description: str):
    return oauth_json(400, {"error": "invalid_request", "error_description": description}, [])


def answered(form: list[tuple[str, str]], status: int, body, headers):
    """The response to send, the answer counted on ``/metrics``."""
    token_outcome(next((value for name, value in form if name == "grant_type"), None), status, body)
    return oauth_json(status, body, headers)


class _Disconnected(Exception):
    pass


async def _body(receive: Receive) -> bytearray:
    body = bytearray()
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise _Disconnected()
        body += message.get("body", b"")
        if len(body) > MAX_BODY_BYTES:
            raise BadForm(f"The body is larger than {MAX_BODY_BYTES} bytes.")
        if not message.get("more_body", False):
            return body


class TokenLane:
    def __init__(self, app: ASGIApp, runtime, server, route, handlers: dict):
        """``route``: the FastAPI route of the token endpoint; ``handlers``: the app's exception handlers."""
        self.app = app
        self.runtime = runtime
        self.server = server
        self.route = route
        self.handlers = handlers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or scope["path"] != TOKEN_PATH:
            await self.app(scope, receive, send)
            return
        scope["route"] = self.route
        headers = Headers(scope=scope)
        try:
            check_form_type(headers.get("content-type", ""))
            form = parse_form(await _body(receive))
        except BadForm as error:
            await refusal(str(error))(scope, receive, send)
            return
        except _Disconnected:
            return
        client = scope.get("client")
        try:
            status, body, extra = await run_in_threadpool(exchange, self.runtime, self.server, headers, form,
                                                          client[0] if client else None)
            response = answered(form, status, body, extra)
        except Exception as error:
            handler = self._handler(error)
            if handler is None:
                raise
            response = await handler(Request(scope, receive), error)
        await response(scope, receive, send)

    def _handler(self, error: Exception):
        for cls in type(error).__mro__:
            if cls in self.handlers:
                return self.handlers[cls]
        return None
