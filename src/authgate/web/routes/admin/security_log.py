"""``/admin/security-log``: the audit log for administrators — filtered by user, client, event and date, paged,
newest first. ``Activity.log`` decides who may read it and runs the query."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from authgate.services.errors import Invalid
from authgate.services.operations.activity import LogFilter
from authgate.services.operations.audit import EVENTS
from authgate.web.pages.admin_lists import list_context, list_query
from authgate.web.http.error_format import ErrorFormat
from authgate.web.pages.templates import page
from authgate.web.pages.visitor import visitor

router = APIRouter(include_in_schema=False, route_class=ErrorFormat.PAGE.route_class)

BASE = "/admin/security-log"
FILTERS = ("user", "client_id", "event", "since", "until")
SORTABLE = ("occurred_at", "event")


def _day(params, name: str) -> date | None:
    text = params.get(name, "").strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise Invalid(f"Give the {'first' if name == 'since' else 'last'} day as YYYY-MM-DD.", field=name) from None


@router.get(BASE)
async def security_log(request: Request) -> Response:
    who = await run_in_threadpool(visitor, request)
    rt = request.app.state.runtime
    params = request.query_params
    shown = {name: params.get(name, "")[:255] for name in FILTERS}
    query = list_query(request, "occurred_at", sortable=SORTABLE, default_direction="desc")
    error = None
    try:
        wanted = LogFilter(shown["user"].strip(), shown["client_id"].strip(), shown["event"],
                           _day(params, "since"), _day(params, "until"))
    except Invalid as refused:
        wanted, error = LogFilter(), refused

    def load():
        with rt.db.session(write=False) as s:
            result = rt.activity.log(s, who.principal, wanted, query)
            return result, rt.activity.usernames(s, (event.user_id for event in result.items))

    result, usernames = await run_in_threadpool(load)
    return page(request, who, "admin_security_log.html", status=422 if error else 200, events=result.items,
                usernames=usernames, event_names=EVENTS, shown=shown, error=error,
                **list_context(BASE, query, result, {k: v for k, v in shown.items() if v}, SORTABLE, "occurred_at"))
