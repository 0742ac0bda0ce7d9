"""The form-posting OAuth endpoints on the plain ASGI path, answered ahead of FastAPI's router: ``POST`` to
the token endpoint (RFC 6749 §3.2), revocation (RFC 7009), introspection (RFC 7662) and device authorization
(RFC 8628 §3.1).

These endpoints have no path parameters, no dependencies and no response model, so FastAPI's routing,
dependency solving and request wrapping are pure overhead on them (``docs/performance.md``). This lane, the
innermost middleware (inside the request id, body limit, NUL refusal and audit origin), reads the form itself
and hands the one blocking part — ``AuthorizationServer.token_response`` or ``endpoint_response``, which wait
on the database and, for the password grant, a password hash — to a small pool of its own threads
(``LANE_THREADS``, with the request's context variables, so audit rows keep their address and request id).
A small pool keeps few threads contending for the GIL under load, where a 40-thread pool spends CPU
switching between them; the password grant's hash releases the GIL, so two cores still hash side by side.
Introspection of a cached JWT by a cached client needs no thread at all: ``answer_from_memory`` answers it
on the event loop.

The answer is what the FastAPI routes (``routes/oauth/flows.py``, ``routes/oauth/token_management.py``, still
registered: they answer other methods with 405 and document the paths) give, since they call the same
``token_answer`` and ``endpoint_answer``: the same OAuth JSON, the same metrics (``scope["route"]`` is the
route, so ``Observability`` labels it and ``ErrorFormats`` finds its format). An exception — a body cut short
included — is answered by the app's own exception handlers, looked up as Starlette would (a database that
cannot be reached is a 503, anything unforeseen a 500 without a trace).
"""

from __future__ import annotations

import asyncio
import contextvars
from concurrent.futures import ThreadPoolExecutor
from functools import partial

from starlette.datastructures import Headers
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from authgate.oauth.endpoints.introspection import answer_from_memory
from authgate.oauth.endpoints.metadata import PATHS
from authgate.oauth.requests import OAuthRequest
from authgate.web.http.oauth_json import oauth_json
from authgate.web.http.observability import token_outcome
from authgate.web.pages.forms import MAX_BODY_BYTES, BadForm, check_form_type, client_ip, parse_form, read_form

TOKEN_PATH = PATHS["token_endpoint"]
ENDPOINTS = ("revocation", "introspection", "device_authorization")
"""The endpoints of ``AuthorizationServer.endpoint_response`` (beside the token endpoint) the lane answers."""
LANE_PATHS = (TOKEN_PATH, *(PATHS[f"{name}_endpoint"] for name in ENDPOINTS))
LANE_THREADS = 8
_pool = ThreadPoolExecutor(max_workers=LANE_THREADS, thread_name_prefix="authgate-oauth")


async def run_in_threadpool(function, *args):
    """``function(*args)`` on the lane's threads, in a copy of the caller's context."""
    context = contextvars.copy_context()
    return await asyncio.get_running_loop().run_in_executor(_pool, context.run, function, *args)


def refusal(description: str) -> Response:
    return oauth_json(400, {"error": "invalid_request", "error_description": description}, [])


def _oauth_request(db, runtime, path: str, headers, form: list[tuple[str, str]], ip: str | None) -> OAuthRequest:
    return OAuthRequest(db, "POST", runtime.settings.issuer + path, headers, [], form, "form", client_ip=ip)


def exchange(runtime, server, headers, form: list[tuple[str, str]], ip: str | None):
    """The token endpoint's answer (status, body, headers) to a form already read; blocks (run it off the loop)."""
    return server.token_response(runtime.db, _oauth_request(None, runtime, TOKEN_PATH, headers, form, ip))


async def token_answer(runtime, server, headers, form: list[tuple[str, str]], ip: str | None) -> Response:
    """The token endpoint's response, the answer counted on ``/metrics``."""
    status, body, extra = await run_in_threadpool(exchange, runtime, server, headers, form, ip)
    token_outcome(next((value for name, value in form if name == "grant_type"), None), status, body)
    return oauth_json(status, body, extra)


def _endpoint_response(name: str, runtime, server, headers, form: list[tuple[str, str]], ip: str | None):
    """Blocks (run it off the loop): introspection only reads, the others write."""
    with runtime.db.session(write=name != "introspection") as s:
        return server.endpoint_response(name, _oauth_request(s, runtime, PATHS[f"{name}_endpoint"], headers, form, ip))


async def endpoint_answer(name: str, runtime, server, headers, form: list[tuple[str, str]],
                          ip: str | None) -> Response:
    """The response of one of ``ENDPOINTS``; introspection is first tried from memory, on the event loop."""
    if name == "introspection":
        remembered = answer_from_memory(runtime, headers, form)
        if remembered is not None:
            return oauth_json(*remembered)
    return oauth_json(*await run_in_threadpool(_endpoint_response, name, runtime, server, headers, form, ip))


def answer_of(path: str):
    """``answer(runtime, server, headers, form, ip)`` for a path of ``LANE_PATHS``."""
    if path == TOKEN_PATH:
        return token_answer
    return partial(endpoint_answer, next(name for name in ENDPOINTS if PATHS[f"{name}_endpoint"] == path))


async def route_answer(request: Request, path: str) -> Response:
    """The response of the FastAPI route at ``path`` (one of ``LANE_PATHS``), for an app without the lane: the
    same answer."""
    try:
        form = await read_form(request)
    except BadForm as error:
        return refusal(str(error))
    state = request.app.state
    return await answer_of(path)(state.runtime, state.oauth, request.headers, form, client_ip(request))


async def _body(receive: Receive) -> bytearray:
    body = bytearray()
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnect()
        body += message.get("body", b"")
        if len(body) > MAX_BODY_BYTES:
            raise BadForm(f"The body is larger than {MAX_BODY_BYTES} bytes.")
        if not message.get("more_body", False):
            return body


class OAuthLane:
    def __init__(self, app: ASGIApp, runtime, server, routes: dict, handlers: dict):
        """``routes``: the FastAPI route of each path of ``LANE_PATHS``; ``handlers``: the app's exception handlers."""
        self.app = app
        self.runtime = runtime
        self.server = server
        self.lanes = {path: (route, answer_of(path)) for path, route in routes.items()}
        self.handlers = handlers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        lane = self.lanes.get(scope["path"]) if scope["type"] == "http" and scope["method"] == "POST" else None
        if lane is None:
            await self.app(scope, receive, send)
            return
        scope["route"], answer = lane
        headers = Headers(scope=scope)
        try:
            try:
                check_form_type(headers.get("content-type", ""))
                form = parse_form(await _body(receive))
            except BadForm as error:
                response = refusal(str(error))
            else:
                client = scope.get("client")
                response = await answer(self.runtime, self.server, headers, form, client[0] if client else None)
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
