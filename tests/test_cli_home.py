"""One database wherever the CLI runs from (issue 14 item 2).

The default SQLite database lives in AUTHGATE_HOME (else the per-user data directory), not in the
working directory; `serve` and `authgate status` say where; every command but `serve` and `db upgrade`
refuses a database that does not exist or whose schema is not current, instead of making a new one.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys

import pytest

from support import CLI_TIMEOUT, new_database, one_line_error, unique


def run(env: dict, cwd, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "authgate", *args], env=env, cwd=cwd, capture_output=True,
                          text=True, timeout=CLI_TIMEOUT)


@pytest.fixture
def home_env(tmp_path) -> dict:
    """A CLI environment with no database setting: only AUTHGATE_HOME, under tmp_path."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AUTHGATE_")}
    return env | {"AUTHGATE_HOME": str(tmp_path / "home"), "AUTHGATE_ARGON2_TIME_COST": "1",
                  "AUTHGATE_ARGON2_MEMORY_KIB": "8192"}


def folders(tmp_path, *names: str):
    paths = [tmp_path / name for name in names]
    for path in paths:
        path.mkdir()
    return paths


def test_commands_from_different_folders_share_the_database_in_authgate_home(home_env, tmp_path):
    first, second, third = folders(tmp_path, "a", "b", "c")
    assert run(home_env, first, "db", "upgrade").returncode == 0
    name = unique("app")
    made = run(home_env, second, "clients", "create", "--name", name, "--json")
    assert made.returncode == 0, made.stderr
    listed = run(home_env, third, "clients", "list", "--json")
    assert name in [c["name"] for c in json.loads(listed.stdout)["clients"]]
    assert (tmp_path / "home" / "authgate.db").exists()
    assert not any(any(path.iterdir()) for path in (first, second, third))


def test_the_default_home_is_the_per_user_data_directory(home_env, tmp_path):
    env = {k: v for k, v in home_env.items() if k != "AUTHGATE_HOME"} | {"XDG_DATA_HOME": str(tmp_path / "data")}
    data = json.loads(run(env, tmp_path, "status", "--json").stdout)
    assert data["home"] == str(tmp_path / "data" / "authgate")
    assert data["database"] == f"sqlite:///{tmp_path}/data/authgate/authgate.db"
    env.pop("XDG_DATA_HOME")
    env["HOME"] = str(tmp_path / "user")
    data = json.loads(run(env, tmp_path, "status", "--json").stdout)
    assert data["home"] == str(tmp_path / "user" / ".local" / "share" / "authgate")


def test_a_command_refuses_to_make_a_database(home_env, tmp_path):
    proc = run(home_env, tmp_path, "users", "create", "ann", "--email", "ann@example.org", "--password", "pw-Ann-1234")
    line = one_line_error(proc)
    assert "AUTHGATE_HOME" in line and "AUTHGATE_DATABASE_URL" in line and "authgate serve" in line
    assert not (tmp_path / "home").exists()


def test_a_command_refuses_an_empty_database_on_either_engine(home_env, tmp_path):
    """On PostgreSQL (AUTHGATE_TEST_DATABASE_URL) the database exists but holds no schema."""
    db = new_database(tmp_path, fresh=True)
    env = home_env | {"AUTHGATE_DATABASE_URL": db.url}
    try:
        assert "no authgate database" in one_line_error(run(env, tmp_path, "clients", "list"))
        assert json.loads(run(env, tmp_path, "status", "--json").stdout)["migrations"]["current"] is False
        assert run(env, tmp_path, "db", "upgrade").returncode == 0
        assert run(env, tmp_path, "clients", "list").returncode == 0
    finally:
        db.drop()


def test_a_command_refuses_a_schema_behind_and_status_says_so(home_env, tmp_path):
    assert run(home_env, tmp_path, "db", "upgrade").returncode == 0
    with sqlite3.connect(tmp_path / "home" / "authgate.db") as con:
        head = con.execute("SELECT version_num FROM alembic_version").fetchone()[0]
        older = f"{int(head) - 1:04d}"
        con.execute("UPDATE alembic_version SET version_num = ?", (older,))
    line = one_line_error(run(home_env, tmp_path, "keys", "list"))
    assert older in line and head in line and "authgate db upgrade" in line
    status = run(home_env, tmp_path, "status")
    assert status.returncode == 0 and f"behind: at {older}" in status.stdout


def test_status_names_issuer_database_migrations_and_keys(server):
    data = server.cli_json("status")
    assert data["issuer"] == server.issuer
    assert data["migrations"]["current"] is True and data["migrations"]["revision"] == data["migrations"]["head"]
    assert any(k["status"] == "active" for k in data["signing_keys"])
    assert data["database"] == server.db.url
    active = sum(k["status"] == "active" for k in data["signing_keys"])
    human = server.cli("status").stdout
    assert f"Issuer:       {server.issuer}" in human and "Migrations:   current" in human
    assert f"Signing keys: {active} active" in human, "the shared server may hold keys other modules rotated"


def test_serve_says_where_its_database_is(server):
    assert "database " in server.stdout_text() and "authgate home " in server.stdout_text()
