"""Search and pages of the admin lists (``/admin/auth-clients``, ``/admin/users``, ``/admin/groups``): the
query read from the query string, what the list template shows of a page, and ``ALL`` for the pick lists a page shows whole."""

from __future__ import annotations

from urllib.parse import urlencode

from starlette.requests import Request

from authgate.services.listing import MAX_PER_PAGE, ListQuery, Page

PER_PAGE = 20
ALL = ListQuery(per_page=MAX_PER_PAGE)


def list_query(request: Request, order_by: str) -> ListQuery:
    """Search and page from the query string; anything unreadable falls back to the first page."""
    params = request.query_params
    try:
        number = max(1, min(int(params.get("page", "1")), 1_000_000))
    except ValueError:
        number = 1
    return ListQuery(filter=params.get("q", "")[:255], page=number, per_page=PER_PAGE, order_by=order_by)


def pager(base: str, q: str, number: int, total_pages: int) -> dict:
    def link(n):
        return base + "?" + urlencode({**({"q": q} if q else {}), "page": n})
    return {"page": number, "pages": total_pages,
            "prev": link(number - 1) if number > 1 else None,
            "next": link(number + 1) if number < total_pages else None}


def list_context(base: str, query: ListQuery, result: Page) -> dict:
    """What every list template reads besides the rows: the search, the total and the pager."""
    return {"q": query.filter, "total": result.total, "pager": pager(base, query.filter, query.page, result.total_pages)}
