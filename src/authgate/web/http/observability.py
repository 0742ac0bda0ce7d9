"""Operations: Prometheus metrics, request ids and structured JSON logs (issue 8).

``Observability`` is a pure ASGI middleware (no Starlette ``BaseHTTPMiddleware``, whose per-request
task would cost more than the bearer check itself): it times each request, counts it by route
template (``/api/1.0/users/{user_id}``, never the raw path, so ids and codes make no new series)
and status, and carries ``X-Request-ID`` in and out. Log lines are JSON, one per event, with the
request id; they carry the method, route template and status, never a query string, header or body.
"""

from __future__ import annotations

import contextvars
import itertools
import json
import logging
import os
import re
import sys
import time

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client import multiprocess

from authgate.oauth.grants.registry import GRANTS

REQUEST_ID = contextvars.ContextVar("request_id", default=None)
ACCEPTED_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")

REQUESTS = Counter("authgate_http_requests_total", "HTTP requests by route template, method and status",
                   ["route", "method", "status"])
LATENCY = Histogram("authgate_http_request_duration_seconds", "HTTP request latency by route template",
                    ["route"], buckets=(.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5))
TOKENS_ISSUED = Counter("authgate_tokens_issued_total", "Tokens issued by the token endpoint, by grant", ["grant"])
OAUTH_ERRORS = Counter("authgate_oauth_errors_total", "OAuth error responses by endpoint and error code",
                       ["endpoint", "error"])

MAX_SERIES = 2000
"""Label sets whose metric children are kept at hand (route templates x methods x statuses)."""

access_log = logging.getLogger("authgate.access")
_ID_PREFIX = os.urandom(8).hex()
_ID_COUNTER = itertools.count()


def new_request_id() -> str:
    """32 hex characters, unique across workers and instances: a random prefix per process and a counter."""
    return f"{_ID_PREFIX}{next(_ID_COUNTER):016x}"


def token_outcome(grant_type: str | None, status: int, body) -> None:
    """Count a token endpoint answer: a token by registered grant type (else ``other``), or an error by its OAuth code."""
    if status == 200:
        TOKENS_ISSUED.labels(grant_type if grant_type in GRANTS.urns() else "other").inc()
    elif isinstance(body, dict) and isinstance(body.get("error"), str):
        OAUTH_ERRORS.labels("token", body["error"][:64]).inc()


def metrics_body() -> tuple[bytes, str]:
    """The exposition; with ``PROMETHEUS_MULTIPROC_DIR`` set, summed over every worker process."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(), CONTENT_TYPE_LATEST


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": round(record.created, 3),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        request_id = REQUEST_ID.get()
        if request_id:
            entry["request_id"] = request_id
        entry.update(getattr(record, "fields", {}))
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def configure_logging(log_format: str, access: bool) -> None:
    """authgate's loggers write to stderr, as JSON unless ``AUTHGATE_LOG_FORMAT=text``."""
    logger = logging.getLogger("authgate")
    if any(getattr(h, "authgate", False) for h in logger.handlers):
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.authgate = True
    handler.setFormatter(JsonFormatter() if log_format != "text" else
                         logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    access_log.setLevel(logging.INFO if access else logging.WARNING)


class Observability:
    def __init__(self, app):
        self.app = app
        self._series: dict[tuple, tuple] = {}

    def _record(self, template: str, method: str, status: int, elapsed: float) -> None:
        series = self._series.get((template, method, status))
        if series is None:
            series = (REQUESTS.labels(template, method, str(status)), LATENCY.labels(template))
            if len(self._series) < MAX_SERIES:
                self._series[(template, method, status)] = series
        series[0].inc()
        series[1].observe(elapsed)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        incoming = None
        for name, value in scope["headers"]:
            if name == b"x-request-id":
                incoming = value.decode("latin-1")
                break
        request_id = incoming if incoming and ACCEPTED_ID.match(incoming) else new_request_id()
        token = REQUEST_ID.set(request_id)
        started = time.perf_counter()
        status = 500
        header = (b"x-request-id", request_id.encode())

        async def send_with_id(message):
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), header]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            self._record(template, scope["method"], status, elapsed)
            if access_log.isEnabledFor(logging.INFO):
                access_log.info("request", extra={"fields": {
                    "method": scope["method"], "route": template, "status": status,
                    "duration_ms": round(elapsed * 1000, 2)}})
            REQUEST_ID.reset(token)
