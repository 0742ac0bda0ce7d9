"""The command line starts quickly (issue 14 item 3): a command imports only what it uses.

Each command runs as a process of its own, which writes down every module it had loaded when it
exited; a command that signs, hashes, serves and speaks OAuth none of the time must load none of
JOSE, Authlib, argon2, bcrypt, FastAPI, Starlette, pydantic, Alembic, uvicorn or Jinja. The times
themselves are the benchmark's (``bench/benchlib/cli_startup.py``): a shared machine makes them no
test's business.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import requests

from support import CLI_TIMEOUT

HEAVY = ("joserfc", "authlib", "argon2", "bcrypt", "fastapi", "starlette", "pydantic", "alembic", "uvicorn",
         "jinja2")


WITH_MODULES_LISTED = """
import atexit, json, runpy, sys
listing = sys.argv.pop(1)
atexit.register(lambda: open(listing, "w").write(json.dumps(sorted(sys.modules))))
runpy.run_module("authgate", run_name="__main__", alter_sys=True)
"""


def imported(server, tmp_path, *args: str) -> set[str]:
    """The modules ``authgate ARGS`` loaded (``python -m authgate``, with the list written at exit)."""
    listing = tmp_path / "modules.json"
    proc = subprocess.run([sys.executable, "-c", WITH_MODULES_LISTED, str(listing), *args], env=server.env,
                          cwd=server.workdir, capture_output=True, text=True, timeout=CLI_TIMEOUT)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return set(json.loads(listing.read_text()))


def heavy(modules: set[str]) -> list[str]:
    return sorted(m for m in modules if m.split(".")[0] in HEAVY)


@pytest.fixture(scope="module")
def someone(server):
    return server.create_user()


@pytest.mark.parametrize("command", [
    ("status",), ("keys", "list"), ("clients", "list"), ("clients", "list", "--json"), ("users", "unlock", "{user}"),
    ("tokens", "list", "--user", "{user}"), ("users", "show", "{user}"), ("groups", "list"),
    ("permissions", "list"),
])
def test_a_simple_command_loads_no_jose_oauth_hashing_or_web_stack(server, someone, command, tmp_path):
    modules = imported(server, tmp_path, *(part.format(user=someone.username) for part in command))
    assert "sqlalchemy.orm" in modules  # the command did run against the database
    assert heavy(modules) == [], command


def test_registering_a_client_checks_its_grants_without_authlib(server, tmp_path):
    """The grant names come from ``oauth/grants/specs.py``; the grant classes (and Authlib) stay unloaded."""
    modules = imported(server, tmp_path, "clients", "create", "--name", "startup-check", "--grant", "client_credentials",
                       "--grant", "urn:ietf:params:oauth:grant-type:device_code")
    assert "authgate.oauth.grants.specs" in modules
    assert heavy(modules) == []


def _grants_known_after(module: str) -> list:
    code = (f"import json, {module}; from authgate.services.applications.grant_types import GRANTS; "
            "print(json.dumps([[s.name, s.label, s.urn, s.refreshable, s.alias] for s in GRANTS.specs()]))")
    return json.loads(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                                     timeout=CLI_TIMEOUT).stdout)


def test_the_cli_knows_every_grant_the_server_serves_in_its_order():
    """What the CLI reads (the specs alone) is what the server registers with the grant classes."""
    served = _grants_known_after("authgate.oauth.grants.registry")
    assert _grants_known_after("authgate.oauth.grants.specs") == served
    assert "device_code" in [name for name, *_ in served]


def test_a_command_that_reads_a_jwt_loads_jose_then(server, make_client, tmp_path):
    """Lazy is not absent: revoking an access token by its value verifies the JWT with joserfc (RFC 7515)."""
    client = make_client(grants=["client_credentials"])
    token = requests.post(server.url("/oauth/token"), data={"grant_type": "client_credentials"}, auth=client.basic,
                          timeout=10).json()["access_token"]
    modules = imported(server, tmp_path, "tokens", "revoke", token)
    assert "joserfc.jws" in modules
