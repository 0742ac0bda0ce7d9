"""Which format an error answer takes — JSON of one kind or another, or the HTML error page — declared by
each router (``APIRouter(route_class=ErrorFormat.API.route_class)``) and read by the app's error handlers
and by ``RefuseNul`` from the route the request matches (``ErrorFormats.of``). A path no route matches
answers as its namespace does: the API's JSON under ``/api`` (and at ``/api`` itself), plain JSON under ``/.well-known/``
(RFC 8615: read by programs), the page elsewhere."""

from __future__ import annotations

from collections.abc import Iterable
from enum import Enum

from fastapi.routing import APIRoute
from starlette.routing import BaseRoute, Match
from starlette.types import Scope


class ErrorFormat(Enum):
    PAGE = "page"
    """The HTML error page: what a person's browser shows."""
    JSON = "json"
    """``{"error": ...}``: discovery, JWKS, userinfo, the health checks."""
    API = "api"
    """The JSON API's bodies (ProcessMaker's): a body that is not JSON is a 422 naming ``body``."""
    OAUTH = "oauth"
    """JSON, and RFC 6749 §5.2's ``invalid_request`` for a wrong method: the client-authenticated POSTs."""
    TOKEN = "token"
    """As ``OAUTH``, and an unreachable database is ``temporarily_unavailable``: the token endpoint."""

    @property
    def json(self) -> bool:
        return self is not ErrorFormat.PAGE

    @property
    def oauth(self) -> bool:
        return self in (ErrorFormat.OAUTH, ErrorFormat.TOKEN)

    @property
    def route_class(self) -> type[APIRoute]:
        return _ROUTE_CLASSES[self]


_ROUTE_CLASSES = {
    kind: type(f"{kind.name.title()}ErrorsRoute", (APIRoute,), {"error_format": kind}) for kind in ErrorFormat
}
UNMATCHED = (("/api/", ErrorFormat.API), ("/.well-known/", ErrorFormat.JSON))


class ErrorFormats:
    """The routes of the app, to find the format of a request before routing (middleware) as after it."""

    def __init__(self, routes: Iterable[BaseRoute]):
        self.routes = [route for route in routes if hasattr(route, "error_format")]

    def _route(self, scope: Scope) -> BaseRoute | None:
        """As Starlette's router chooses: the first full match, else the first partial one (a wrong method)."""
        partial = None
        for route in self.routes:
            match, _ = route.matches(scope)
            if match is Match.FULL:
                return route
            if match is Match.PARTIAL and partial is None:
                partial = route
        return partial

    def allowed(self, scope: Scope) -> list[str]:
        """Every method some route takes at this path, in the order the routes were added: Starlette's 405 names
        only the first route's (RFC 9110 §10.2.1: Allow lists them all)."""
        methods: dict[str, None] = {}
        for route in self.routes:
            match, _ = route.matches(scope)
            if match is not Match.NONE:
                methods.update(dict.fromkeys(sorted(getattr(route, "methods", None) or ())))
        return list(methods)

    def of(self, scope: Scope) -> ErrorFormat:
        route = scope.get("route") if hasattr(scope.get("route"), "error_format") else self._route(scope)
        if route is not None:
            return route.error_format
        namespace = scope["path"].rstrip("/") + "/"
        return next((kind for prefix, kind in UNMATCHED if namespace.startswith(prefix)), ErrorFormat.PAGE)
