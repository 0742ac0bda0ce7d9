"""The guide's three snippets as client/README.md rewrites them — each three lines or fewer — run
against the server with the placeholders filled in, as the guide's reader would: authorization code
(RFC 6749 §4.1, loopback redirect RFC 8252 §7.3), password (§4.3), personal access token."""

from __future__ import annotations

import contextlib
import io
import re
import webbrowser
from pathlib import Path

import pytest

from client_support import FakeBrowserOpener
from support import free_port

README = Path(__file__).resolve().parent.parent / "client" / "README.md"
INSTANCE = "https://<your-instance>.processmaker.net"


def snippet(name: str) -> str:
    match = re.search(rf"<!-- snippet: {name} -->\s*```python\n(.*?)```", README.read_text(), re.S)
    assert match, f"no snippet {name} in {README}"
    return match.group(1)


@pytest.fixture(scope="module")
def user(server):
    return server.create_user()


def run(code: str, placeholders: dict[str, str]) -> str:
    for placeholder, value in placeholders.items():
        code = code.replace(placeholder, value)
    assert "<your-" not in code, code
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, str(README), "exec"), {})
    return out.getvalue()


@pytest.mark.parametrize("name", ["authorization-code", "password", "personal-access-token"])
def test_each_snippet_is_three_lines_or_fewer(name):
    assert len(snippet(name).strip().splitlines()) <= 3


def test_authorization_code_snippet(server, user, tmp_path, monkeypatch):
    monkeypatch.setenv("AUTHGATE_CLIENT_CACHE_DIR", str(tmp_path))
    redirect = f"http://127.0.0.1:{free_port()}/callback"
    app = server.create_client(redirect_uris=[redirect])
    monkeypatch.setattr(webbrowser, "open", FakeBrowserOpener(server, user))
    printed = run(snippet("authorization-code"), {
        INSTANCE: server.issuer, "<your-client-id>": app.client_id, "<your-client-secret>": app.client_secret,
        "<your-scope>": "users:read", "<your-redirect-uri>": redirect})
    assert re.fullmatch(r"Access token: ey\S+\n", printed)


def test_password_snippet(server, user, tmp_path, monkeypatch):
    monkeypatch.setenv("AUTHGATE_CLIENT_CACHE_DIR", str(tmp_path))
    app = server.create_client(grants=["password"])
    printed = run(snippet("password"), {
        INSTANCE: server.issuer, "<your-client-id>": app.client_id, "<your-client-secret>": app.client_secret,
        "<your-username>": user.username, "<your-password>": user.password})
    assert re.fullmatch(r"Access token: ey\S+\n", printed)


def test_personal_access_token_snippet(server, user):
    pat = server.create_pat(user.username)["token"]
    printed = run(snippet("personal-access-token"), {
        INSTANCE: server.issuer, "<your-personal-access-token>": pat, "<your-endpoint>": "1.0/users/me"})
    assert f"'username': '{user.username}'" in printed
