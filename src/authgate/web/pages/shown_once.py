"""The page that shows a new secret once, reached by a redirect (POST/redirect/GET), so that reloading it never
makes another token or secret: ``show_once`` keeps the page's contents (``ShownOnce``) and redirects to
``PAGE``, which shows them to the same session once; the browser holds the slot's key in a cookie."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from authgate.web.pages.cookies import delete_cookie, read_cookie, set_cookie
from authgate.web.pages.templates import page
from authgate.web.pages.visitor import Visitor

PAGE = "/shown-once"
ONCE_COOKIE = "authgate_once"


async def show_once(request: Request, who: Visitor, *, title: str, heading: str, what: str, secret: str,
                    details: list[tuple[str, str]], back: str, back_label: str, label: str | None = None,
                    multiline: bool = False) -> Response:
    """A 303 to the page that will show ``secret`` (and the rest) once, to this session only; ``multiline``
    for a secret of several lines (recovery codes)."""
    rt = request.app.state.runtime
    view = {"title": title, "heading": heading, "what": what, "label": label, "secret": secret, "multiline": multiline,
            "details": details, "back": back, "back_label": back_label}

    def keep():
        with rt.db.session() as s:
            return rt.shown_once.keep(s, who.session_id, view)

    response = RedirectResponse(PAGE, status_code=303)
    set_cookie(response, rt.settings, ONCE_COOKIE, await run_in_threadpool(keep),
               max_age=rt.settings.shown_once_seconds)
    return response


async def shown_page(request: Request, who: Visitor) -> Response:
    """The secret, the first time; afterwards (a reload, another tab) a page that says it was shown."""
    rt = request.app.state.runtime

    def take():
        with rt.db.session() as s:
            return rt.shown_once.take(s, who.session_id, read_cookie(request, ONCE_COOKIE))

    view = await run_in_threadpool(take)
    if view is None:
        response = page(request, who, "secret_gone.html", status=410)
    else:
        response = page(request, who, "secret_once.html", **view)
    delete_cookie(response, rt.settings, ONCE_COOKIE)
    return response
