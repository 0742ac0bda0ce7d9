"""The command line interface exactly as the contract states it: `db upgrade`,
`users create`, `clients create|list|delete`, their --json outputs and
human output, and errors as one line on stderr with a non-zero exit code and
never a traceback. Also the administrator made by `serve` on an empty
database (from AUTHGATE_ADMIN_PASSWORD, or generated and printed).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from support import Browser, ServerProcess, free_port, one_line_error, password_grant, token_request, unique, users_me


@pytest.fixture(scope="module")
def pw_client(server):
    """A client allowed the password grant, to check credentials made by the CLI."""
    return server.create_client(grants=["password"])


# ---- db ------------------------------------------------------------------------------


def test_db_upgrade_is_idempotent(cli):
    proc = cli("db", "upgrade")
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr


def test_console_script_authgate(server):
    """The installed `authgate` command is the same CLI as `python -m authgate`."""
    exe = Path(sys.executable).with_name("authgate")
    assert exe.exists(), exe
    proc = subprocess.run([str(exe), "clients", "list", "--json"], env=server.env, capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert isinstance(json.loads(proc.stdout)["clients"], list)


# ---- users -----------------------------------------------------------------------------


def test_users_create_json(server, cli, pw_client):
    name = unique("carol")
    proc = cli("users", "create", name, "--email", f"{name}@example.org", "--password", "pw-Carol-123", "--json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert set(data) >= {"id", "username", "email", "is_administrator"}
    assert data["username"] == name
    assert data["email"] == f"{name}@example.org"
    assert data["is_administrator"] is False
    # the password set on the command line works
    resp = token_request(server, {"grant_type": "password", "username": name, "password": "pw-Carol-123"},
                         auth=pw_client.basic)
    assert resp.status_code == 200, resp.text


def test_users_create_password_stdin_with_trailing_newline(server, cli, pw_client):
    """`echo "$PW" | authgate users create ... --password-stdin` — the newline is not part of the password."""
    name = unique("dave")
    proc = cli("users", "create", name, "--email", f"{name}@example.org", "--password-stdin", "--json",
               input="pw-Dave-456\n")
    assert proc.returncode == 0, proc.stderr
    resp = token_request(server, {"grant_type": "password", "username": name, "password": "pw-Dave-456"},
                         auth=pw_client.basic)
    assert resp.status_code == 200, resp.text


def test_users_create_admin(server, pw_client):
    admin = server.create_user(admin=True)
    assert admin.data["is_administrator"] is True
    token = password_grant(server, pw_client, admin).json()["access_token"]
    assert users_me(server, token).json()["is_administrator"] is True


def test_users_create_duplicate_username_is_one_line_error(server, cli):
    user = server.create_user()
    proc = cli("users", "create", user.username, "--email", "other@example.org", "--password", "pw-x-12345")
    line = one_line_error(proc)
    assert user.username in line or "exist" in line.lower() or "taken" in line.lower()


def test_users_create_without_password_is_an_error(cli):
    name = unique("nopw")
    proc = cli("users", "create", name, "--email", f"{name}@example.org")
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize("days", ["99999999999", "36501", "0", "soon"])
def test_tokens_create_with_an_expiry_out_of_range_is_a_one_line_error(server, cli, days):
    user = server.create_user()
    proc = cli("tokens", "create", "--user", user.username, "--name", "far", "--expires-in", days)
    assert proc.returncode == 2 and "--expires-in" in proc.stderr and "Traceback" not in proc.stderr


# ---- clients -----------------------------------------------------------------------------


def test_clients_create_json_confidential(server):
    uri = f"https://{unique('cli')}.example.org/cb"
    c = server.create_client(name="My App", redirect_uris=[uri], grants=["authorization_code"],
                             scopes=["users:read", "profile"])
    d = c.data
    assert set(d) >= {"client_id", "client_secret", "name", "redirect_uris", "grants", "scopes", "public"}
    assert d["name"] == "My App"
    assert d["redirect_uris"] == [uri]
    assert "authorization_code" in d["grants"] and "refresh_token" in d["grants"]  # implied
    assert "password" not in d["grants"] and "client_credentials" not in d["grants"]
    assert sorted(d["scopes"]) == ["profile", "users:read"]
    assert d["public"] is False
    assert isinstance(d["client_secret"], str) and len(d["client_secret"]) >= 20
    assert d["client_id"] and d["client_id"] != d["client_secret"]


@pytest.mark.parametrize(
    "uris, grants",
    [([], ["password", "refresh_token"]),
     (["https://dflt.example.org/cb"], ["authorization_code", "password", "refresh_token"])],
    ids=["no-redirect-uri", "redirect-uri"],
)
def test_clients_create_default_grants(server, uris, grants):
    """No --grant: the code grant only when there is somewhere to redirect to (RFC 6749 §3.1.2)."""
    d = server.create_client(redirect_uris=uris).data
    assert sorted(d["grants"]) == grants


def test_clients_create_json_public(server):
    c = server.create_client(public=True, redirect_uris=["https://spa.example.org/cb"])
    assert c.data["public"] is True
    assert c.data["client_secret"] is None


def test_clients_create_every_grant_accepted(server):
    grants = ["authorization_code", "password", "client_credentials", "refresh_token", "personal_access"]
    d = server.create_client(grants=grants, redirect_uris=["https://all.example.org/cb"]).data
    assert sorted(d["grants"]) == sorted(grants)


def test_clients_create_human_output(server, cli):
    name = unique("human")
    proc = cli("clients", "create", "--name", name, "--grant", "client_credentials")
    assert proc.returncode == 0, proc.stderr
    cid = re.search(r"^\s*Client ID:\s*(\S+)\s*$", proc.stdout, re.M)
    secret = re.search(r"^\s*Client secret:\s*(\S+)\s*$", proc.stdout, re.M)
    assert cid and secret, proc.stdout
    # the printed credentials are the real ones
    resp = token_request(server, {"grant_type": "client_credentials"}, auth=(cid.group(1), secret.group(1)))
    assert resp.status_code == 200, resp.text


@pytest.mark.parametrize("bad", [["--grant", "implicit"], ["--scope", "no-such-scope"]], ids=["grant", "scope"])
def test_clients_create_rejects_unknown_values(cli, bad):
    proc = cli("clients", "create", "--name", unique("bad"), *bad)
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr and proc.stderr.strip()


def test_clients_list_json_never_shows_secrets(server, cli):
    c = server.create_client(redirect_uris=["https://list.example.org/cb"], grants=["password"])
    proc = cli("clients", "list", "--json")
    assert proc.returncode == 0, proc.stderr
    assert c.client_secret not in proc.stdout
    entries = {e["client_id"]: e for e in json.loads(proc.stdout)["clients"]}
    e = entries[c.client_id]
    assert set(e) >= {"client_id", "name", "redirect_uris", "grants", "scopes", "public", "created_at"}
    assert "client_secret" not in e
    assert e["name"] == c.name and e["redirect_uris"] == ["https://list.example.org/cb"]
    assert "password" in e["grants"] and e["public"] is False


def test_clients_list_human_never_shows_secrets(server, cli):
    c = server.create_client()
    proc = cli("clients", "list")
    assert proc.returncode == 0, proc.stderr
    assert c.client_id in proc.stdout
    assert c.client_secret not in proc.stdout


def test_clients_delete(server, cli):
    c = server.create_client(grants=["client_credentials"])
    assert token_request(server, {"grant_type": "client_credentials"}, auth=c.basic).status_code == 200  # control
    proc = cli("clients", "delete", c.client_id)
    assert proc.returncode == 0, proc.stderr
    ids = {e["client_id"] for e in server.cli_json("clients", "list")["clients"]}
    assert c.client_id not in ids
    resp = token_request(server, {"grant_type": "client_credentials"}, auth=c.basic)
    assert resp.status_code == 401 and resp.json()["error"] == "invalid_client"


def test_clients_delete_unknown_is_one_line_error(cli):
    proc = cli("clients", "delete", "no-such-client-" + unique("x"))
    assert proc.returncode == 1
    one_line_error(proc)


# ---- the administrator made by `serve` ------------------------------------------------------


def test_serve_creates_admin_from_env(server, pw_client):
    resp = token_request(server, {"grant_type": "password", "username": "admin",
                                  "password": server.admin_password}, auth=pw_client.basic)
    assert resp.status_code == 200, resp.text
    me = users_me(server, resp.json()["access_token"]).json()
    assert me["username"] == "admin" and me["is_administrator"] is True
    assert server.admin_password not in server.stdout_text()


def test_serve_without_admin_password_prints_a_generated_one(server_factory):
    srv: ServerProcess = server_factory({"AUTHGATE_ADMIN_PASSWORD": None})
    m = re.search(r"^Created administrator 'admin' with password: (\S+)$", srv.stdout_text(), re.M)
    assert m, f"stdout was: {srv.stdout_text()!r}"
    b = Browser(srv)
    login, form = b.login_page("/")
    resp = b.submit_login(login, form, "admin", m.group(1))
    assert resp.status_code == 303


def test_serve_with_a_database_it_cannot_reach_says_so_in_one_line_and_serves_nothing(tmp_path):
    """The start-up work (migrations, the first administrator) runs before serving, in a child process where the
    platform forks: its failure is still the command's one line and exit status, and nothing listens."""
    port = free_port()
    env = {**os.environ, "AUTHGATE_HOME": str(tmp_path),
           "AUTHGATE_DATABASE_URL": f"postgresql+psycopg://nobody@127.0.0.1:{free_port()}/none"}
    proc = subprocess.run([sys.executable, "-m", "authgate", "serve", "--port", str(port)], env=env,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1
    assert one_line_error(proc).startswith("authgate: database error:")
    assert "authgate serving on" not in proc.stdout
