"""Record ids typed into a page's URL or form: 1 to 9 digits (within the database's 32-bit ids).

``{name:id}`` is the path convertor of every page route that takes an id, so ``/admin/users/abc``
or an id too large for the column is the 404 page, not a validation error in JSON or a database
error; ``record_id`` reads one from a form field the same way."""

from __future__ import annotations

import re

from starlette.convertors import Convertor, register_url_convertor

PATTERN = "[0-9]{1,9}"
_WHOLE = re.compile(PATTERN)


class RecordId(Convertor):
    regex = PATTERN

    def convert(self, value: str) -> int:
        return int(value)

    def to_string(self, value: int) -> str:
        return str(value)


def record_id(text: str | None) -> int | None:
    """The id written in ``text``, or None when it is not one."""
    text = (text or "").strip()
    return int(text) if _WHOLE.fullmatch(text) else None


register_url_convertor("id", RecordId())
