"""Lists the way ProcessMaker's API pages them: a substring filter, one sort column, pages.

``paginate`` runs on a SQL query, ``paginate_items`` on rows already in memory; both refuse an
unknown sort column (naming the ones there are) and never ask the database for a page past the end.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

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


def paginate(s: Session, stmt, query: ListQuery, *, sortable: dict, default_order: str, search: Sequence) -> Page:
    """One page of ``stmt`` (a ``select`` of one entity); ``sortable`` maps names to columns."""
    query = query.checked(list(sortable), default_order)
    if query.filter:
        needle = query.filter.lower()
        stmt = stmt.where(or_(*(func.lower(column).contains(needle, autoescape=True) for column in search)))
    total = s.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    page = Page([], total, query)
    if page.offset >= total:
        return page
    column = sortable[query.order_by]
    order = column.desc() if query.order_direction == "desc" else column.asc()
    tiebreak = stmt.column_descriptions[0]["entity"].id
    rows = s.scalars(stmt.order_by(order, tiebreak.desc() if query.order_direction == "desc" else tiebreak.asc())
                     .offset(page.offset).limit(query.per_page))
    page.items = list(rows)
    return page


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
