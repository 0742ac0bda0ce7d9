"""Lists the way ProcessMaker's API pages them: a substring filter, one sort column, pages.

``paginate`` has a store read the page (``storage/repositories/listing.py``), ``paginate_items``
pages rows already in memory; both refuse an unknown sort column (naming the ones there are), and
no page past the end is read.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

from authgate.services.errors import Invalid

DEFAULT_PER_PAGE = 10
MAX_PER_PAGE = 100
MAX_FILTER_LENGTH = 255
DIRECTIONS = ("asc", "desc")


@dataclass(frozen=True)
class ListQuery:
    filter: str = ""
    order_by: str | None = None
    order_direction: str = "asc"
    per_page: int = DEFAULT_PER_PAGE
    page: int = 1

    def checked(self, sortable: Sequence[str], default_order: str) -> "ListQuery":
        """The query with defaults filled in and ``per_page`` capped; ``Invalid`` names a bad field."""
        order_by = self.order_by or default_order
        if order_by not in sortable:
            raise Invalid(f"order_by must be one of: {', '.join(sortable)}.", field="order_by")
        direction = (self.order_direction or "asc").lower()
        if direction not in DIRECTIONS:
            raise Invalid("order_direction must be asc or desc.", field="order_direction")
        if self.page < 1:
            raise Invalid("page must be 1 or more.", field="page")
        if self.per_page < 1:
            raise Invalid("per_page must be 1 or more.", field="per_page")
        if len(self.filter or "") > MAX_FILTER_LENGTH:
            raise Invalid(f"filter must be at most {MAX_FILTER_LENGTH} characters.", field="filter")
        return replace(
            self, filter=self.filter or "", order_by=order_by, order_direction=direction,
            per_page=min(self.per_page, MAX_PER_PAGE),
        )


@dataclass
class Page:
    items: list
    total: int
    query: ListQuery
    extra: dict = field(default_factory=dict)

    @property
    def total_pages(self) -> int:
        return max(1, math.ceil(self.total / self.query.per_page))

    @property
    def offset(self) -> int:
        return (self.query.page - 1) * self.query.per_page

    def map(self, view: Callable) -> "Page":
        return Page([view(item) for item in self.items], self.total, self.query, self.extra)


def paginate(query: ListQuery, *, sortable: Sequence[str], default_order: str,
             fetch: Callable[[ListQuery], tuple[list, int]]) -> Page:
    """One page, read by ``fetch`` (a store's paged read) once ``query`` is checked against the
    ``sortable`` names."""
    query = query.checked(sortable, default_order)
    items, total = fetch(query)
    return Page(items, total, query)


def paginate_items(items: Sequence, query: ListQuery, *, sortable: dict, default_order: str, search: Sequence) -> Page:
    """As ``paginate``, for rows in memory; ``sortable`` and ``search`` are functions of a row."""
    query = query.checked(list(sortable), default_order)
    rows = list(items)
    if query.filter:
        needle = query.filter.lower()
        rows = [row for row in rows if any(needle in str(text(row) or "").lower() for text in search)]
    key = sortable[query.order_by]
    rows.sort(key=lambda row: (_sort_key(key(row))), reverse=query.order_direction == "desc")
    page = Page([], len(rows), query)
    page.items = rows[page.offset:page.offset + query.per_page]
    return page


def _sort_key(value) -> tuple:
    return (value is not None, value if value is not None else 0)
