"""Reading request bodies: bounded in size, form-encoded even with no Content-Type (the guide sends none)."""

from __future__ import annotations

from urllib.parse import parse_qsl

from starlette.requests import Request

MAX_BODY_BYTES = 64 * 1024
MAX_FIELDS = 100
FORM_TYPE = "application/x-www-form-urlencoded"


class BadForm(ValueError):
    """The body is not a form authgate can read; the message says why."""


async def read_form(request: Request) -> list[tuple[str, str]]:
    """The body's (name, value) pairs in order, repeats kept."""
    check_form_type(request.headers.get("content-type", ""))
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY_BYTES:
            raise BadForm(f"The body is larger than {MAX_BODY_BYTES} bytes.")
    return parse_form(body)


def check_form_type(header: str) -> None:
    """``BadForm`` unless the ``Content-Type`` header says a form, or nothing."""
    content_type = header.split(";")[0].strip().lower()
    if content_type not in ("", FORM_TYPE):
        raise BadForm(f"The body must be {FORM_TYPE}, not {content_type}.")


def parse_form(body: bytes | bytearray) -> list[tuple[str, str]]:
    """A form body's (name, value) pairs in order, repeats kept; ``BadForm`` when it cannot be read."""
    try:
        text = bytes(body).decode("utf-8")
        pairs = parse_qsl(text, keep_blank_values=True, max_num_fields=MAX_FIELDS, errors="strict")
    except UnicodeDecodeError:
        raise BadForm("The body is not valid UTF-8.") from None
    except ValueError:
        raise BadForm(f"The body has more than {MAX_FIELDS} fields.") from None
    return pairs


def client_ip(request: Request) -> str | None:
    """The peer's address (behind a proxy in ``AUTHGATE_TRUSTED_PROXIES``, the address it forwards)."""
    return request.client.host if request.client else None


def query_pairs(request: Request) -> list[tuple[str, str]]:
    return list(request.query_params.multi_items())
