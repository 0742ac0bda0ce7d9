"""The ``{name:id}`` path convertor of the admin pages: a record id of 1 to 9 digits (within the
database's 32-bit ids), so ``/admin/users/abc`` or an id too large for the column is the 404 page,
not a validation error in JSON or a database error."""

from __future__ import annotations

from starlette.convertors import Convertor, register_url_convertor


class RecordId(Convertor):
    regex = "[0-9]{1,9}"

    def convert(self, value: str) -> int:
        return int(value)

    def to_string(self, value: int) -> str:
        return str(value)


register_url_convertor("id", RecordId())
