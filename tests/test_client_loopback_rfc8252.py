"""The Python client's authorization code flow for native apps (RFC 8252 §7.3 loopback redirect,
RFC 7636 PKCE S256, RFC 6749 §4.1 and §10.12 state), driven by a person at a browser that
``webbrowser.open`` stands for; and its fallback, the printed URL and the pasted code."""

from __future__ import annotations

import io
import socket
import webbrowser

import pytest

from authgate_client import AccessDenied, AuthorizationTimeout, Client
from client_support import FakeBrowserOpener
from support import Browser, free_port, parse_page, query_params, users_me


@pytest.fixture(scope="module")
def user(server):
    return server.create_user()


@pytest.fixture(scope="module")
def port() -> int:
    return free_port()


@pytest.fixture(scope="module")
def app(server, port):
    """One application for the module, registered with one loopback redirect URI."""
    return server.create_client(redirect_uris=[f"http://127.0.0.1:{port}/callback"])


def new_client(server, app, tmp_path, **kw) -> Client:
    return Client(server.issuer, app.client_id, app.client_secret, scopes=["users:read"],
                  cache_dir=tmp_path / "cache", out=io.StringIO(), **kw)


def test_loopback_flow_with_pkce_rfc8252_7_3(server, user, app, port, tmp_path, monkeypatch):
    opener = FakeBrowserOpener(server, user)
    monkeypatch.setattr(webbrowser, "open", opener)
    client = new_client(server, app, tmp_path)

    tokens = client.login_browser(port=port)

    sent = query_params(opener.opened[0])
    assert sent["redirect_uri"] == f"http://127.0.0.1:{port}/callback"
    assert sent["code_challenge_method"] == "S256" and len(sent["code_challenge"]) == 43
    assert len(sent["state"]) >= 20 and sent["scope"] == "users:read"
    assert opener.loopback_answers[-1].status_code == 200
    assert "close this window" in opener.loopback_answers[-1].text
    assert tokens.grant == "authorization_code" and tokens.refresh_token
    me = client.get("/api/1.0/users/me")
    assert me.status_code == 200 and me.json()["username"] == user.username
    with socket.socket() as s:  # the listener is gone once the code arrived
        assert s.connect_ex(("127.0.0.1", port)) != 0


def test_response_with_another_state_is_refused_rfc6749_10_12(server, user, app, port, tmp_path, monkeypatch):
    opener = FakeBrowserOpener(server, user, forged_state_first=True)
    monkeypatch.setattr(webbrowser, "open", opener)
    client = new_client(server, app, tmp_path)

    client.login_browser(port=port)

    forged, genuine = opener.loopback_answers
    assert forged.status_code == 400 and "state" in forged.text
    assert genuine.status_code == 200
    assert users_me(server, client.access_token()).status_code == 200


def test_denied_consent_raises_access_denied_rfc6749_4_1_2_1(server, app, port, tmp_path, monkeypatch):
    """A user who has not approved this app before (approval is remembered, so they would not be asked)."""
    monkeypatch.setattr(webbrowser, "open", FakeBrowserOpener(server, server.create_user(), decision="deny"))
    client = new_client(server, app, tmp_path)

    with pytest.raises(AccessDenied) as caught:
        client.login_browser(port=port, timeout=30)
    assert caught.value.error == "access_denied"
    assert "declined" in str(caught.value)
    assert client.tokens is None


def test_any_loopback_port_rfc8252_7_3(server, user, tmp_path, monkeypatch):
    """RFC 8252 §7.3: the server must accept any port for a native (public) client's loopback redirect URI."""
    app = server.create_client(redirect_uris=["http://127.0.0.1/callback"], public=True)
    monkeypatch.setattr(webbrowser, "open", FakeBrowserOpener(server, user))
    client = new_client(server, app, tmp_path)
    client.login_browser()
    assert users_me(server, client.access_token()).status_code == 200


def test_no_browser_prints_the_url_and_reads_the_pasted_redirect(server, user, app, port, tmp_path, monkeypatch):
    """Where no browser opens, the URL is printed; the person pastes the address the browser was sent to."""
    monkeypatch.setattr(webbrowser, "open", lambda url, new=0, autoraise=True: False)
    client = new_client(server, app, tmp_path)

    def person_pastes() -> str:
        printed = client.out.getvalue()
        url = next(line.strip() for line in printed.splitlines() if "/oauth/authorize?" in line)
        return Browser(server).authorize(url, user) + "\n"  # the address bar, not followed

    client.login_browser(port=port, read_line=person_pastes)
    assert "Open this URL" in client.out.getvalue()
    assert users_me(server, client.access_token()).status_code == 200


def test_guide_way_code_page_and_pasted_code(server, user, tmp_path):
    """The guide's redirect to authgate's /oauth/code page: the person copies the code shown there."""
    app = server.create_client(redirect_uris=[server.url("/oauth/code")])
    client = new_client(server, app, tmp_path)

    def person_pastes() -> str:
        url = next(line.strip() for line in client.out.getvalue().splitlines() if "/oauth/authorize?" in line)
        browser = Browser(server)
        page = browser.get(browser.authorize(url, user))
        return parse_page(page.text).by_id["authorization-code"] + "\n"

    tokens = client.login_browser(redirect_uri=server.url("/oauth/code"), read_line=person_pastes)
    assert users_me(server, tokens.access_token).status_code == 200


def test_nobody_signs_in_times_out(server, user, app, port, tmp_path, monkeypatch):
    monkeypatch.setattr(webbrowser, "open", lambda url, new=0, autoraise=True: True)
    client = new_client(server, app, tmp_path)
    with pytest.raises(AuthorizationTimeout, match="sign in again"):
        client.login_browser(port=port, timeout=0.5)
