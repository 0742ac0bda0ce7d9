"""The ASGI application: routes, error handlers, and the runtime built once per worker process."""

from __future__ import annotations

import logging
import os
from contextlib import asynccontextmanager
from functools import partial
from pathlib import Path
from urllib.parse import urlencode, urlsplit

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from sqlalchemy.exc import DisconnectionError, IntegrityError, InterfaceError, OperationalError
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.staticfiles import StaticFiles
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from authgate import __version__
from authgate.oauth.server import AuthorizationServer
from authgate.services.errors import Conflict, Forbidden, NotFound, ServiceError
from authgate.services.operations.ratelimit import TooManyAttempts
from authgate.services.runtime import Runtime
from authgate.settings import Settings, get_settings, is_loopback
from authgate.web.jsonapi import docs
from authgate.web.jsonapi.envelope import INVALID, NOT_FOUND, method_not_allowed
from authgate.web.bearer import UNAUTHORIZED, BearerError
from authgate.web.http.body_limit import BodyLimit, cut_short
from authgate.web.http.cors import Cors
from authgate.web.pages.csrf import FormRejected
from authgate.web.http.error_format import ErrorFormat, ErrorFormats
from authgate.web.fast_lane import FastLane
from authgate.web.oauth_lane import LANE_PATHS, OAuthLane
from authgate.web.http.headers import SecurityHeaders
from authgate.web.http.no_nul import RefuseNul
from authgate.web.http.observability import Observability, configure_logging
from authgate.web.http.request_context import AuditOrigin
from authgate.web.routes.account import (email_links, enrolment, factors, federation, linked_identities, passkeys,
                                         profile, profile_details, shown_once, sign_in)
from authgate.web.routes.account import password as account_password
from authgate.web.routes.account import sessions as account_sessions
from authgate.web.routes.admin import clients as admin_clients
from authgate.web.routes.admin import groups as admin_groups
from authgate.web.routes.admin import identity_providers as admin_identity_providers
from authgate.web.routes.admin import resources as admin_resources
from authgate.web.routes.admin import security_log as admin_security_log
from authgate.web.routes.admin import sign_in_policy as admin_sign_in_policy
from authgate.web.routes.admin import users as admin_users
from authgate.web.routes.api import authorizations as api_authorizations
from authgate.web.routes.api import providers as api_providers
from authgate.web.routes.api import clients as api_clients
from authgate.web.routes.api import docs as api_docs
from authgate.web.routes.api import factor_policy as api_factor_policy
from authgate.web.routes.api import factors as api_factors
from authgate.web.routes.api import groups as api_groups
from authgate.web.routes.api import permissions as api_permissions
from authgate.web.routes.api import resources as api_resources
from authgate.web.routes.api import security_logs as api_security_logs
from authgate.web.routes.api import sessions as api_sessions
from authgate.web.routes.api import tokens as api_tokens
from authgate.web.routes.api import users as api_users
from authgate.web.routes.oauth import device, discovery, flows, token_management, userinfo
from authgate.web.routes.oauth import logout as oauth_logout
from authgate.web.routes.oauth import par as oauth_par
from authgate.web.routes.oauth import registration as oauth_registration
from authgate.web.routes.operations import health, metrics
from authgate.web.pages.templates import error_page
from authgate.web.pages.visitor import SignInRequired, optional_visitor

log = logging.getLogger("authgate")

ROUTERS = (
    health.router, metrics.router, flows.router, flows.token_router, sign_in.router, token_management.router,
    discovery.router, userinfo.router, device.router, api_users.router, api_groups.router, api_permissions.router,
    api_tokens.router, api_clients.router, api_authorizations.router, api_security_logs.router, api_docs.router,
    profile.router, admin_clients.router, admin_users.router, admin_groups.router, shown_once.router,
    admin_security_log.router, factors.router, account_sessions.router, account_password.router, api_sessions.router,
    enrolment.router, api_factor_policy.router, admin_sign_in_policy.router,
    passkeys.router, api_factors.router,
    oauth_registration.router, oauth_registration.client_router,
    api_resources.router, admin_resources.router,
    oauth_logout.router, oauth_par.router,
    email_links.router, profile_details.router,
    federation.router, linked_identities.router, api_providers.router, admin_identity_providers.router,
)


def _allow_http_on_loopback(settings: Settings) -> None:
    """Authlib refuses plain-http requests; a loopback issuer is development, where http is fine."""
    parts = urlsplit(settings.issuer)
    if parts.scheme == "http" and (is_loopback(parts.hostname) or settings.development):
        os.environ["AUTHLIB_INSECURE_TRANSPORT"] = "1"


def _field_error(item: dict) -> tuple[str, str]:
    """A pydantic error as ProcessMaker names it: the field (``body`` for the body as a whole) and a sentence."""
    loc = [str(part) for part in item.get("loc", ())]
    kind = item.get("type")
    if kind == "json_invalid":
        return "body", "The body is not valid JSON."
    field = ".".join(loc[1:]) or "body"
    if kind == "missing":
        return field, "The body is required." if field == "body" else f"The {field} field is required."
    if field == "body" and kind in ("dict_type", "model_attributes_type"):
        return "body", "The body must be a JSON object, sent with Content-Type: application/json."
    if kind == "extra_forbidden":
        return field, f"The {field} field is not known here."
    return field, f"{field}: {item.get('msg')}."


def _api_http_error(request: Request, error: StarletteHTTPException) -> Response:
    """Starlette's own errors under ``/api`` (no such path, a wrong method, a body that is not JSON) in the
    API's envelope, as the endpoints' errors are."""
    if error.status_code == 400:
        message = "The body is not valid JSON (or not UTF-8)."
        return JSONResponse({"message": INVALID, "errors": {"body": [message]}}, status_code=422)
    if error.status_code == 404:
        return JSONResponse(NOT_FOUND, status_code=404, headers=error.headers)
    if error.status_code == 405:
        allowed = (error.headers or {}).get("Allow", "")
        return JSONResponse(method_not_allowed(request.method, allowed), status_code=405, headers=error.headers)
    return JSONResponse({"message": str(error.detail)}, status_code=error.status_code, headers=error.headers)


def _service_error_page(error: ServiceError, shown) -> Response:
    """A page's refused action: what went wrong and what to do (``shown``: ``error_page`` for the visitor)."""
    if isinstance(error, NotFound):
        return shown("Not found", str(error), status=404, hint="It may have been deleted. Go back and reload the list.")
    if isinstance(error, Forbidden):
        return shown("Not allowed", str(error), status=403, hint="Ask an administrator for the permission if you need it.")
    if isinstance(error, TooManyAttempts):
        response = shown("Too many attempts", str(error), status=429, hint="Wait, then try again.")
        response.headers["Retry-After"] = str(error.retry_after)
        return response
    return shown("Cannot do that", str(error), status=422, hint="Go back, correct it and try again.")


async def _error_page_for(request: Request):
    """``error_page`` that shows who is signed in, as every page does."""
    try:
        who = await run_in_threadpool(optional_visitor, request)
    except Exception:  # a page about one failure must not fail on a second one (the database, say)
        who = None
    return partial(error_page, request=request, visitor=who)


def _install_error_handlers(app: FastAPI, formats: ErrorFormats) -> None:
    def format_of(request: Request) -> ErrorFormat:
        return formats.of(request.scope)

    @app.exception_handler(BearerError)
    async def bearer_error(request: Request, error: BearerError) -> Response:
        return JSONResponse(error.body, status_code=error.status,
                            headers={"WWW-Authenticate": error.challenge, **error.headers})

    @app.exception_handler(FormRejected)
    async def form_rejected(request: Request, error: FormRejected) -> Response:
        return (await _error_page_for(request))(error.title, error.message, hint=error.hint)

    @app.exception_handler(SignInRequired)
    async def sign_in_required(request: Request, error: SignInRequired) -> Response:
        return RedirectResponse("/login?" + urlencode({"next": error.next_url}), status_code=303)

    @app.exception_handler(ClientDisconnect)
    async def body_cut_short(request: Request, error: ClientDisconnect) -> Response:
        """The client went away while its body was read: its fault, not a 500 with a stack trace in the log."""
        log.info("client disconnected before its body was read on %s %s", request.method, request.url.path)
        return cut_short(format_of(request))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException) -> Response:
        kind = format_of(request)
        if error.status_code == 405 and (allowed := formats.allowed(request.scope)):
            error.headers = {**(error.headers or {}), "Allow": ", ".join(allowed)}
        if kind.oauth and error.status_code == 405:
            body = {"error": "invalid_request", "error_description": f"{error.detail}: use POST."}
            return JSONResponse(body, status_code=error.status_code, headers=error.headers)
        if kind is ErrorFormat.API:
            return _api_http_error(request, error)
        if kind.json:
            message = "Not Found" if error.status_code == 404 else str(error.detail)
            return JSONResponse({"error": message}, status_code=error.status_code, headers=error.headers)
        shown = await _error_page_for(request)
        return shown(str(error.detail), "There is nothing here." if error.status_code == 404 else str(error.detail),
                     status=error.status_code)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, error: RequestValidationError) -> Response:
        errors: dict[str, list[str]] = {}
        for item in error.errors():
            field, message = _field_error(item)
            errors.setdefault(field, []).append(message)
        return JSONResponse({"message": INVALID, "errors": errors}, status_code=422)

    @app.exception_handler(ServiceError)
    async def service_error(request: Request, error: ServiceError) -> Response:
        if not format_of(request).json:
            return _service_error_page(error, await _error_page_for(request))
        if isinstance(error, NotFound):
            return JSONResponse(NOT_FOUND, status_code=404)
        if isinstance(error, Forbidden):
            return JSONResponse({"message": UNAUTHORIZED, "reason": str(error)}, status_code=403)
        if isinstance(error, TooManyAttempts):
            return JSONResponse({"message": str(error)}, status_code=429,
                                headers={"Retry-After": str(error.retry_after)})
        status = 409 if isinstance(error, Conflict) else 422
        return JSONResponse({"message": INVALID, "errors": {error.field or "body": [str(error)]}}, status_code=status)

    @app.exception_handler(IntegrityError)
    async def integrity_error(request: Request, error: IntegrityError) -> Response:
        """A write that would break a uniqueness rule the services did not foresee: 409, never a 500."""
        log.warning("integrity error on %s %s", request.method, request.url.path)
        message = "This conflicts with an existing record (a name or address already in use)."
        if format_of(request).json:
            return JSONResponse({"message": message, "errors": {"body": [message]}}, status_code=409)
        return (await _error_page_for(request))("Conflict", message, status=409, hint="Choose another name and try again.")

    @app.exception_handler(OperationalError)
    @app.exception_handler(InterfaceError)
    @app.exception_handler(DisconnectionError)
    async def database_unavailable(request: Request, error: Exception) -> Response:
        """The database is down or unreachable: 503 (retry later), not a 500 and not a hang."""
        log.warning("database unavailable on %s %s: %s", request.method, request.url.path, type(error).__name__)
        headers = {"Retry-After": "5", "Cache-Control": "no-store"}
        kind = format_of(request)
        if kind is ErrorFormat.TOKEN:
            body = {"error": "temporarily_unavailable", "error_description": "The database is unavailable; retry shortly."}
            return JSONResponse(body, status_code=503, headers=headers)
        if kind.json:
            return JSONResponse({"error": "Service Unavailable", "message": "The database is unavailable; retry shortly."},
                                status_code=503, headers=headers)
        response = error_page("Temporarily unavailable", "authgate cannot reach its database right now.",
                              status=503, hint="Try again in a few seconds.")
        response.headers.update(headers)
        return response

    @app.exception_handler(Exception)
    async def unexpected(request: Request, error: Exception) -> Response:
        log.error("unexpected error on %s %s: %s", request.method, request.url.path, type(error).__name__, exc_info=error)
        if format_of(request).json:
            return JSONResponse({"error": "server_error", "message": "Something went wrong on our side."}, status_code=500)
        shown = await _error_page_for(request)
        return shown("Something went wrong", "authgate could not complete this request.", status=500)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    _allow_http_on_loopback(settings)
    configure_logging(settings.log_format, settings.access_log)
    runtime = Runtime.open(settings)

    @asynccontextmanager
    async def lifespan(_app):
        runtime.start_background()
        yield
        runtime.stop_background()

    app = FastAPI(
        lifespan=lifespan,
        title="authgate",
        version=__version__,
        docs_url=None,
        openapi_url="/api/openapi.json",
        redoc_url=None,
        swagger_ui_oauth2_redirect_url=None,
        description=docs.DESCRIPTION,
        telemetry={"tracing": False, "metrics": False, "logs": False},
        redirect_slashes=False,
    )
    app.state.runtime = runtime
    app.state.oauth = AuthorizationServer(runtime)
    for router in ROUTERS:
        app.include_router(router)
    app.mount("/static", StaticFiles(directory=Path(__file__).with_name("static")), name="static")
    formats = ErrorFormats(route for router in ROUTERS for route in router.routes)
    _install_error_handlers(app, formats)
    # Outermost last: (ProxyHeaders) -> Observability -> SecurityHeaders -> Cors -> FastLane -> BodyLimit -> RefuseNul
    # -> AuditOrigin -> OAuthLane -> routes.
    lane_routes = {route.path: route for router in (flows.token_router, token_management.router)
                   for route in router.routes if getattr(route, "path", None) in LANE_PATHS}
    app.add_middleware(OAuthLane, runtime=runtime, server=app.state.oauth, routes=lane_routes,
                       handlers=app.exception_handlers)
    app.add_middleware(AuditOrigin)
    app.add_middleware(RefuseNul, formats=formats)
    app.add_middleware(BodyLimit, formats=formats)
    app.add_middleware(FastLane, bearer=runtime.bearer, reads=[api_users.ME], background=runtime.background)
    app.add_middleware(Cors)
    app.add_middleware(SecurityHeaders, https=settings.secure_cookies)
    app.add_middleware(Observability)
    if settings.trusted_proxies:
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=list(settings.trusted_proxies))
    return app
