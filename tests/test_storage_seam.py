"""Issue 13 item 1: the storage seam. The account-side and token-side services, the protocol core and
the HTTP layer issue no SQL of their own (the statements live in ``storage/repositories/``), and every SQL store implements its
interface, method for method, so that a second backend written against the Protocol fits the same
services. These tests read the source: the behaviour itself is covered by the API, page and CLI tests.
"""

from __future__ import annotations

import ast
import importlib
import inspect
from pathlib import Path
from typing import Protocol

import pytest

import authgate

PACKAGE = Path(authgate.__file__).parent
STATEMENT_BUILDERS = {"select", "insert", "update", "delete", "text", "func", "exists", "or_", "and_", "bindparam"}
SESSION_QUERIES = {"execute", "scalar", "scalars", "get", "query", "delete"}


def sql_issued(path: Path) -> list[str]:
    """Where ``path`` imports a SQLAlchemy statement builder or asks a session (``s``) for a query."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "sqlalchemy":
            found += [f"{path.name}:{node.lineno} imports {a.name}" for a in node.names if a.name in STATEMENT_BUILDERS]
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in SESSION_QUERIES
                and isinstance(node.func.value, ast.Name) and node.func.value.id == "s"):
            found.append(f"{path.name}:{node.lineno} calls s.{node.func.attr}")
    return found


SERVICES = sorted(path.relative_to(PACKAGE / "services").as_posix()
                  for path in (PACKAGE / "services").rglob("*.py"))


@pytest.mark.parametrize("module", SERVICES)
def test_services_issue_no_sql(module):
    """Every service module, the bearer check and the caches included: the statements are the stores'."""
    assert sql_issued(PACKAGE / "services" / module) == []


def test_the_services_are_found():
    assert {"accounts/people/users.py", "credentials/bearer.py", "caching/bus.py", "runtime.py"} <= set(SERVICES)


def test_the_protocol_core_issues_no_sql():
    assert [hit for path in sorted((PACKAGE / "oauth").rglob("*.py")) for hit in sql_issued(path)] == []


@pytest.mark.parametrize("layer", ["web", "cli"])
def test_the_adapters_issue_no_sql(layer):
    assert [hit for path in sorted((PACKAGE / layer).rglob("*.py")) for hit in sql_issued(path)] == []


def test_the_probe_sees_sql_where_there_is_some():
    assert sql_issued(PACKAGE / "storage" / "repositories" / "users.py")


STORES = sorted(path.stem for path in (PACKAGE / "storage" / "repositories").glob("*.py")
                if path.stem not in ("__init__", "listing"))  # listing: the paging shared by the stores


def test_the_stores_are_found():
    assert {"users", "tokens", "events", "sessions"} <= set(STORES)


@pytest.mark.parametrize("module", STORES)
def test_each_sql_store_implements_its_interface(module):
    stores = importlib.import_module(f"authgate.storage.repositories.{module}")
    interfaces = [cls for name, cls in vars(stores).items()
                  if name.endswith("Store") and inspect.isclass(cls) and Protocol in cls.__mro__[1:]
                  and cls.__module__ == stores.__name__]
    assert len(interfaces) == 1, f"{module}: one <Thing>Store Protocol"
    interface = interfaces[0]
    implementation = getattr(stores, "Sql" + interface.__name__)
    methods = [name for name, _ in inspect.getmembers(interface, inspect.isfunction) if not name.startswith("_")]
    assert methods
    for name in methods:
        wanted, given = inspect.signature(getattr(interface, name)), inspect.signature(getattr(implementation, name))
        assert list(wanted.parameters) == list(given.parameters), f"{implementation.__name__}.{name}"
        assert list(wanted.parameters)[1] == "s", f"{interface.__name__}.{name} takes the session first"
