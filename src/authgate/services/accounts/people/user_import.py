"""Import users from ProcessMaker / Laravel (CSV or JSON), keeping their bcrypt password hashes.

The whole file is one transaction: one bad row and nothing is imported; the error names the row.
"""

from __future__ import annotations

import csv
import io
import json

from sqlalchemy.orm import Session

from authgate.security.passwords import is_supported_hash
from authgate.services.accounts.people.users import UserService
from authgate.services.errors import Invalid, ServiceError

FIELDS = ("username", "email", "password_hash", "password", "firstname", "lastname", "is_administrator")
TRUE = ("1", "true", "yes", "y")


def parse(text: str, filename: str) -> list[dict]:
    """Rows from a JSON array of objects or a CSV file with a header line."""
    if filename.lower().endswith(".json"):
        try:
            rows = json.loads(text)
        except json.JSONDecodeError as error:
            raise Invalid(f"{filename} is not valid JSON: {error.msg} at line {error.lineno}") from None
        if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
            raise Invalid(f"{filename} must hold a JSON array of objects")
        return rows
    reader = csv.DictReader(io.StringIO(text))
    if not reader.fieldnames or "username" not in reader.fieldnames or "email" not in reader.fieldnames:
        raise Invalid(f"{filename} needs a header line with at least username and email")
    return list(reader)


def import_users(s: Session, users: UserService, rows: list[dict]) -> int:
    for number, row in enumerate(rows, start=1):
        unknown = set(row) - set(FIELDS)
        if unknown:
            raise Invalid(f"row {number}: unknown field(s) {', '.join(sorted(unknown))}")
        password_hash = str(row.get("password_hash") or "") or None
        password = str(row.get("password") or "") or None
        if bool(password_hash) == bool(password):
            raise Invalid(f"row {number}: give exactly one of password_hash and password")
        if password and (is_supported_hash(password) or password.startswith(("$2a$", "$2x$", "$argon2"))):
            raise Invalid(f"row {number}: the password column holds a password hash; put hashes in a "
                          "password_hash column (a password in clear goes in password)")
        try:
            users.create(
                s,
                str(row.get("username") or ""),
                str(row.get("email") or ""),
                password,
                password_hash=password_hash,
                is_administrator=str(row.get("is_administrator", "")).strip().lower() in TRUE,
                firstname=str(row.get("firstname") or ""),
                lastname=str(row.get("lastname") or ""),
            )
        except ServiceError as error:
            raise type(error)(f"row {number}: {error}") from None
    return len(rows)
