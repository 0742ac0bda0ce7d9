"""What every JSON API endpoint shares: ProcessMaker's list envelope and query parameters, its
error bodies (for the handlers and for the OpenAPI document), and the bounds on ids."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Annotated, Any

from fastapi import Path, Query, Request
from pydantic import AfterValidator, BaseModel, Field, create_model

from authgate.services.operations.listing import DEFAULT_PER_PAGE, MAX_FILTER_LENGTH, MAX_PER_PAGE, ListQuery, Page

MAX_ID = 2**31 - 1
NOT_FOUND = {"error": "Not Found"}
INVALID = "The given data was invalid."


def method_not_allowed(method: str, allowed: str) -> dict:
    """A 405 in the API's shape (ProcessMaker's: a ``message`` naming the methods the path takes)."""
    return {"message": f"The {method} method is not supported for this path. Supported methods: {allowed}."}

Id = Annotated[int, Field(ge=1, le=MAX_ID)]
PathId = Annotated[int, Path(ge=1, le=MAX_ID, description="The record's id.")]
ClientId = Annotated[str, Path(max_length=64, description="The client id.")]


def _in_utc(value: datetime) -> datetime:
    """A time without an offset is UTC; one with an offset must still be a time once moved to UTC
    (``9999-12-31T23:59:59-23:59`` is not)."""
    if value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    try:
        return value.astimezone(timezone.utc)
    except OverflowError:
        raise ValueError("the time is out of range once converted to UTC") from None


UtcDateTime = Annotated[datetime, AfterValidator(_in_utc)]
"""Every time the API reads: ISO 8601, UTC when no offset is given, returned timezone-aware in UTC."""


def list_query(
    filter: Annotated[str, Query(max_length=MAX_FILTER_LENGTH, description="Substring to look for in the main text fields (case-insensitive).")] = "",
    order_by: Annotated[str | None, Query(max_length=64, description="Field to sort by; an unknown field is a 422 that lists the known ones.")] = None,
    order_direction: Annotated[str, Query(max_length=8, description="asc or desc.")] = "asc",
    per_page: Annotated[int, Query(ge=1, description=f"Rows per page (default {DEFAULT_PER_PAGE}; more than {MAX_PER_PAGE} gives {MAX_PER_PAGE}).")] = DEFAULT_PER_PAGE,
    page: Annotated[int, Query(ge=1, description="Page number, from 1.")] = 1,
) -> ListQuery:
    return ListQuery(filter=filter, order_by=order_by, order_direction=order_direction,
                     per_page=min(per_page, MAX_PER_PAGE), page=page)


def list_body(request: Request, page: Page) -> dict:
    """``{"data": [...], "meta": {...}}`` as ProcessMaker's ``ApiCollection`` makes it."""
    q = page.query
    count = len(page.items)
    return {
        "data": page.items,
        "meta": {
            "total": page.total,
            "count": count,
            "per_page": q.per_page,
            "current_page": q.page,
            "total_pages": page.total_pages,
            "last_page": page.total_pages,
            "from": page.offset + 1 if count else None,
            "to": page.offset + count if count else None,
            "sort_by": q.order_by,
            "sort_order": q.order_direction,
            "filter": q.filter,
            "path": request.app.state.runtime.settings.issuer + request.url.path,
            **page.extra,
        },
    }


class Meta(BaseModel):
    total: int
    count: int
    per_page: int
    current_page: int
    total_pages: int
    last_page: int
    from_: int | None = Field(alias="from")
    to: int | None
    sort_by: str
    sort_order: str
    filter: str
    path: str


def list_of(model: type[BaseModel], name: str) -> type[BaseModel]:
    """The OpenAPI schema of a list of ``model``: ``{"data": [...], "meta": Meta}``."""
    return create_model(name, data=(list[model], ...), meta=(Meta, ...))


class Unauthenticated(BaseModel):
    error: str = Field(examples=["Unauthenticated."])


class Unauthorized(BaseModel):
    message: str = Field(examples=["This action is unauthorized."])
    reason: str | None = Field(None, description="Why, in words: the scope or permission that is missing.")
    error: str | None = Field(None, examples=["insufficient_scope"], description="Set when the token lacks the scope.")


class NotFoundBody(BaseModel):
    error: str = Field(examples=["Not Found"])


class ValidationErrorBody(BaseModel):
    message: str = Field(examples=[INVALID])
    errors: dict[str, list[str]] = Field(examples=[{"email": ["email must be an email address"]}])


ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": Unauthenticated, "description": "No token, or an invalid, expired or revoked one (RFC 6750 §3.1; with WWW-Authenticate)."},
    403: {"model": Unauthorized, "description": "The token lacks the scope, or its user the permission."},
    404: {"model": NotFoundBody, "description": "No such record."},
    409: {"model": ValidationErrorBody, "description": "A name or address already in use; `errors` names the field."},
    422: {"model": ValidationErrorBody, "description": "The input is invalid; `errors` names each field at fault."},
}


def errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    return {code: ERRORS[code] for code in codes}


def describe(scope: str, permission: str) -> str:
    return f"**Scope:** `{scope}`. **Permission:** {permission}."
