"""One page of a list query: a substring filter over some columns, one sort column, an offset.

The service checks the request (``services/listing.ListQuery.checked``) before a store runs it, so
the page asked for here is always well formed; the page count and the page past the end are the
service's concern, except that no page is read past the end of the rows.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session


class PageQuery(Protocol):
    """What a store reads of a checked list request."""

    filter: str
    order_by: str
    order_direction: str
    per_page: int
    page: int


def page_of(s: Session, stmt: Select, query: PageQuery, *, search: Sequence,
            columns: Mapping[str, str] | None = None) -> tuple[list, int]:
    """The rows of one page of ``stmt`` (a ``select`` of one entity) and how many rows there are in
    all; ``query.order_by`` names an attribute of the entity (or a key of ``columns``, naming one)."""
    if query.filter:
        needle = query.filter.lower()
        stmt = stmt.where(or_(*(func.lower(column).contains(needle, autoescape=True) for column in search)))
    total = s.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    offset = (query.page - 1) * query.per_page
    if offset >= total:
        return [], total
    entity = stmt.column_descriptions[0]["entity"]
    column = getattr(entity, (columns or {}).get(query.order_by, query.order_by))
    descending = query.order_direction == "desc"
    order = (column.desc(), entity.id.desc()) if descending else (column.asc(), entity.id.asc())
    return list(s.scalars(stmt.order_by(*order).offset(offset).limit(query.per_page))), total
