"""The ``authgate-client`` command in a subprocess, as a shell user runs it: ``login`` (password,
personal access token, browser with a loopback redirect per RFC 8252 §7.3, device per RFC 8628),
``token`` for ``curl -H "Authorization: Bearer $(authgate-client token)"``, ``api``, ``whoami`` and
``logout``; ``--issuer`` from ``AUTHGATE_ISSUER``; errors as one line on stderr, never a traceback.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from client_support import approve_device
from support import CLI_TIMEOUT, free_port, one_line_error, users_me

TESTS_DIR = Path(__file__).resolve().parent


@pytest.fixture(scope="module")
def user(server):
    return server.create_user()


@pytest.fixture(scope="module")
def app(server):
    return server.create_client(grants=["password"])


@pytest.fixture
def run(tmp_path):
    """run(*args, input=None, env=None) -> CompletedProcess of `python -m authgate_client ...` with its
    own token cache, and none of the caller's AUTHGATE_* settings."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("AUTHGATE_") and k != "BROWSER"}
    base["AUTHGATE_CLIENT_CACHE_DIR"] = str(tmp_path / "cache")

    def run(*args: str, input: str | None = None, env: dict | None = None) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "authgate_client", *args], input=input, capture_output=True,
                              text=True, timeout=CLI_TIMEOUT, env={**base, **(env or {})}, cwd=tmp_path)

    run.env = base
    return run


def ok(proc: subprocess.CompletedProcess) -> subprocess.CompletedProcess:
    assert proc.returncode == 0, f"exit {proc.returncode}\nstdout: {proc.stdout}\nstderr: {proc.stderr}"
    assert "Traceback" not in proc.stderr
    return proc


def test_password_login_then_token_api_whoami_logout(server, app, user, run):
    login = ok(run("login", "--issuer", server.issuer, "--client-id", app.client_id, "--client-secret",
                   app.client_secret, "--scope", "users:read", "--password", "--username", user.username,
                   input=user.password + "\n"))
    assert "Signed in to " + server.issuer in login.stderr and login.stdout == ""

    token = ok(run("token")).stdout
    assert token.count("\n") == 1 and token.startswith("ey")
    assert users_me(server, token.strip()).json()["username"] == user.username  # the curl use

    api = json.loads(ok(run("api", "GET", "/api/1.0/users/me")).stdout)
    assert api["username"] == user.username

    assert ok(run("whoami")).stdout.strip() == f"{user.username} <{user.email}> at {server.issuer}"
    assert json.loads(ok(run("whoami", "--json")).stdout)["email"] == user.email

    logout = ok(run("logout"))
    assert "Signed out of " + server.issuer in logout.stderr
    assert "not signed in" in one_line_error(run("token"))


def test_personal_access_token_from_stdin_and_issuer_from_env(server, user, run):
    pat = server.create_pat(user.username)["token"]
    login = ok(run("login", "--token", "-", input=pat + "\n", env={"AUTHGATE_ISSUER": server.issuer}))
    assert f"(personal access token, as {user.username})" in login.stderr
    assert ok(run("token")).stdout.strip() == pat
    assert ok(run("whoami", env={"AUTHGATE_ISSUER": server.issuer})).stdout.startswith(user.username + " ")


def test_a_refused_personal_access_token_is_not_kept(server, user, run):
    """One call checks the token before "Signed in": a revoked one is refused and nothing is kept."""
    pat = server.create_pat(user.username)
    server.cli_json("tokens", "revoke", str(pat["id"]))
    refused = one_line_error(run("login", "--issuer", server.issuer, "--token", pat["token"]))
    assert "refused the token" in refused and "HTTP 401" in refused
    assert "not signed in" in one_line_error(run("token", "--issuer", server.issuer))
    assert "empty" in one_line_error(run("login", "--issuer", server.issuer, "--token", "-", input=""))


def test_password_without_a_terminal_says_what_standard_input_must_hold(server, app, run):
    line = one_line_error(run("login", "--issuer", server.issuer, "--client-id", app.client_id, "--client-secret",
                              app.client_secret, "--password", "--username", "someone", input=""))
    assert "standard input" in line and "first line" in line and "printf" in line
    line = one_line_error(run("login", "--issuer", server.issuer, "--client-id", app.client_id, "--client-secret",
                              app.client_secret, "--password", input="someone\n"))
    assert "second line" in line


BROWSER_SCRIPT = """\
#!{python}
# Stands for the user's web browser: signs in, approves, and follows the redirect to the loopback.
import os, sys, types
sys.path.insert(0, {tests!r})
import requests
from support import Browser, User
server = types.SimpleNamespace(base_url=os.environ["TEST_SERVER"])
user = User(os.environ["TEST_USER"], os.environ["TEST_PASSWORD"], "", None)
location = Browser(server).authorize(sys.argv[1], user)
requests.get(location, timeout=15)
"""


def test_browser_login_with_loopback_redirect_rfc8252_7_3(server, user, run, tmp_path):
    """The BROWSER variable (read by Python's webbrowser) names a program that acts as the person."""
    port = free_port()
    app = server.create_client(redirect_uris=[f"http://127.0.0.1:{port}/callback"])
    browser = tmp_path / "browser"
    browser.write_text(BROWSER_SCRIPT.format(python=sys.executable, tests=str(TESTS_DIR)))
    browser.chmod(0o755)
    env = {"BROWSER": str(browser), "TEST_SERVER": server.base_url, "TEST_USER": user.username,
           "TEST_PASSWORD": user.password, "AUTHGATE_CLIENT_SECRET": app.client_secret}

    login = ok(run("login", "--issuer", server.issuer, "--client-id", app.client_id, "--browser",
                   "--port", str(port), "--scope", "users:read", env=env))
    assert "Waiting for you to sign in" in login.stderr  # the progress indicator (one line off a terminal)
    assert "(authorization code, scope users:read)" in login.stderr  # the grant in words
    assert ok(run("whoami")).stdout.startswith(user.username + " ")


def test_device_login_rfc8628(server, user, run):
    device_app = server.create_client(name="cli device", grants=["device_code"], public=True)
    proc = subprocess.Popen([sys.executable, "-m", "authgate_client", "login", "--issuer", server.issuer,
                             "--client-id", device_app.client_id, "--device", "--scope", "users:read"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=run.env)
    shown = ""
    try:
        while not re.search(r"enter the code:\s+\S+", shown):
            line = proc.stderr.readline()
            assert line, f"the CLI ended before showing a code: {shown}"
            shown += line
        code = re.search(r"enter the code:\s+(\S+)", shown).group(1)
        uri = re.search(r"open (\S+) and enter", shown).group(1)
        approve_device(server, user, code, uri)
        proc.wait(timeout=60)
        rest = proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, shown + rest
    assert "Waiting for the approval" in shown + rest
    assert "(device, " in rest and "urn:" not in shown + rest  # the grant in words, never its URN
    assert ok(run("whoami")).stdout.startswith(user.username + " ")


def test_errors_are_one_line_without_traceback(server, app, user, run):
    assert "issuer missing" in one_line_error(run("login", "--client-id", "x", "--password"))
    assert "client_id missing" in one_line_error(run("login", "--issuer", server.issuer, "--password"))
    wrong = one_line_error(run("login", "--issuer", server.issuer, "--client-id", app.client_id, "--client-secret",
                               app.client_secret, "--password", "--username", user.username, input="wrong\n"))
    assert "invalid_grant" in wrong and "HTTP 400" in wrong
    assert "not signed in" in one_line_error(run("whoami"))

    ok(run("login", "--issuer", server.issuer, "--client-id", app.client_id, "--client-secret", app.client_secret,
           "--password", "--username", user.username, input=user.password + "\n"))
    assert "--data is not JSON" in one_line_error(run("api", "POST", "/api/1.0/users/me", "--data", "{nope"))
    missing = run("api", "GET", "/api/1.0/no-such-thing")
    assert "HTTP 404" in one_line_error(missing)
    assert json.loads(missing.stdout) == {"error": "Not Found"}


def test_console_script_is_installed(run):
    script = Path(sys.executable).with_name("authgate-client")
    proc = subprocess.run([str(script), "--help"], capture_output=True, text=True, timeout=CLI_TIMEOUT, env=run.env)
    assert proc.returncode == 0
    for command in ("login", "token", "api", "whoami", "logout"):
        assert command in proc.stdout
    assert textwrap.dedent(proc.stdout).startswith("usage: authgate-client")
