"""PostgreSQL for the --db postgres pass: one fresh database per server per pass, created through
the server given by --pg-url (its database is only the one connected to for CREATE and DROP) and
dropped when the server stops."""

from __future__ import annotations

import os
import secrets
from urllib.parse import urlsplit, urlunsplit

import psycopg

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/test"


class Database:
    def __init__(self, admin_url: str, server: str):
        self.admin_url = admin_url
        self.name = f"bench_{server}_{os.getpid()}_{secrets.token_hex(3)}"
        with psycopg.connect(admin_url, autocommit=True) as c:
            c.execute(f'CREATE DATABASE "{self.name}"')

    def url(self, scheme: str = "postgresql") -> str:
        parts = urlsplit(self.admin_url)
        return urlunsplit((scheme, parts.netloc, "/" + self.name, parts.query, ""))

    def drop(self) -> None:
        with psycopg.connect(self.admin_url, autocommit=True) as c:
            c.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
