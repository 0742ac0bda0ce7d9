"""Search, sorting and pages of the admin lists (``/admin/auth-clients``, ``/admin/users``, ``/admin/groups``,
``/admin/security-log``): the query read from the query string (anything unreadable falls back to the
default), what the list templates show of a page ("11–20 of 26", the page size, a link per sortable
column), and ``ALL`` for the pick lists a page shows whole."""

from __future__ import annotations

from urllib.parse import urlencode

from starlette.requests import Request

from authgate.services.operations.listing import DIRECTIONS, MAX_PER_PAGE, ListQuery, Page

PER_PAGE = 20
PAGE_SIZES = (10, 20, 50, 100)
ALL = ListQuery(per_page=MAX_PER_PAGE)


def _number(text: str | None, default: int) -> int:
    try:
        return max(1, min(int(text or default), 1_000_000))
    except ValueError:
        return default


def list_query(request: Request, order_by: str, *, sortable: tuple[str, ...] = (),
               default_direction: str = "asc") -> ListQuery:
    """Search, sort (one of ``sortable``, else ``order_by``), direction, page size and page from the query string."""
    params = request.query_params
    per_page = _number(params.get("per_page"), PER_PAGE)
    direction = params.get("dir", default_direction)
    return ListQuery(filter=params.get("q", "")[:255], page=_number(params.get("page"), 1),
                     per_page=per_page if per_page in PAGE_SIZES else PER_PAGE,
                     order_by=params.get("sort") if params.get("sort") in sortable else order_by,
                     order_direction=direction if direction in DIRECTIONS else default_direction)


def list_context(base: str, query: ListQuery, result: Page, keep: dict | None = None,
                 sortable: tuple[str, ...] = (), default_order: str | None = None) -> dict:
    """What every list template reads besides the rows: the search, the total, the pager and the sort links;
    ``keep`` holds the page's own filters, carried by every link."""
    state = {**(keep or {}), **({"q": query.filter} if query.filter else {})}
    if query.order_by != default_order or query.order_direction != "asc":
        state.update(sort=query.order_by, dir=query.order_direction)
    if query.per_page != PER_PAGE:
        state["per_page"] = query.per_page

    def link(**changes) -> str:
        return base + "?" + urlencode({**state, **changes})

    number, pages = query.page, result.total_pages
    first = min(result.offset + 1, result.total)
    pager = {"page": number, "pages": pages, "first": first, "last": min(result.offset + query.per_page, result.total),
             "total": result.total, "per_page": query.per_page, "sizes": PAGE_SIZES,
             "hidden": {k: v for k, v in state.items() if k != "per_page"},
             "prev": link(page=number - 1) if number > 1 else None,
             "next": link(page=number + 1) if number < pages else None}
    sorting = {}
    for column in sortable:
        current = query.order_by == column
        flipped = "desc" if current and query.order_direction == "asc" else "asc"
        sorting[column] = {"url": link(sort=column, dir=flipped),
                           "aria": ("ascending" if query.order_direction == "asc" else "descending") if current else None}
    return {"q": query.filter, "total": result.total, "pager": pager, "sorting": sorting, "base": base}
