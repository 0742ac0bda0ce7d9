"""Native apps' loopback redirects (RFC 8252 §7.3, §8.3; RFC 9700 §4.1.3): a public client registered
with an http loopback IP URI may come back on any port, and only there; everything else about the URI
must match exactly, `localhost` gets no such freedom, a confidential client none at all, and the code
is bound to the port used. A port outside 1-65535 is refused at registration (API, CLI, page) and at
the authorization endpoint."""

from __future__ import annotations

import pytest

from support import (Browser, User, assert_invalid, authorization_params, exchange_code, one_line_error, parse_page,
                     pkce_pair, query_params, user_via_api)


@pytest.fixture
def user_for_consent(admin):
    return user_via_api(admin)


def params_for(client, uri):
    verifier, challenge = pkce_pair()
    return verifier, authorization_params(client, redirect_uri=uri, challenge=challenge)


@pytest.fixture(scope="module")
def native(server):
    return server.create_client(redirect_uris=["http://127.0.0.1/callback", "http://[::1]/cb", "http://localhost/cb"],
                                public=True)


@pytest.mark.parametrize("uri", ["http://127.0.0.1:53682/callback", "http://127.0.0.1:1/callback",
                                 "http://[::1]:8400/cb"])
def test_any_port_on_a_loopback_ip(server, native, user_for_consent, uri):
    location = Browser(server).authorize(params_for(native, uri)[1], user_for_consent)
    assert location.startswith(uri + "?") and "code" in query_params(location)


@pytest.mark.parametrize("uri", [
    "http://localhost:8400/cb",          # §8.3: not localhost
    "http://127.0.0.1:53682/callback/x",  # path differs
    "http://127.0.0.1:53682/callback?x=1",
    "https://127.0.0.1:53682/callback",   # scheme differs
    "http://127.0.0.2:53682/callback",    # another address
    "http://127.0.0.1:99999/callback",    # not a port
])
def test_everything_but_the_port_must_match(server, native, uri):
    r = Browser(server).open_authorize(params_for(native, uri)[1])
    assert r.status_code == 400 and "Location" not in r.headers


def test_the_code_is_bound_to_the_port_used_rfc6749_4_1_3(server, native, user_for_consent):
    used = "http://127.0.0.1:41000/callback"
    verifier, params = params_for(native, used)
    code = query_params(Browser(server).authorize(params, user_for_consent))["code"]
    other_port = exchange_code(server, native, code, redirect_uri="http://127.0.0.1:41001/callback",
                               verifier=verifier)
    assert other_port.status_code == 400 and other_port.json()["error"] == "invalid_grant"


@pytest.fixture(scope="module")
def web_app(server):
    """A confidential client (a web server: it has a secret) that registered a loopback URI, as a developer does."""
    return server.create_client(redirect_uris=["http://127.0.0.1/callback", "http://127.0.0.1:8080/cb"])


def test_a_confidential_client_gets_no_port_freedom_rfc8252_7_3(server, web_app):
    """§7.3's any-port rule is for native apps (public clients); a web server's URI is fixed (RFC 9700 §4.1.3)."""
    for uri in ("http://127.0.0.1:53682/callback", "http://127.0.0.1:8081/cb", "http://127.0.0.1/cb"):
        r = Browser(server).open_authorize(params_for(web_app, uri)[1])
        assert r.status_code == 400 and "Location" not in r.headers, uri
        assert "not supported by client" in r.text


def test_a_confidential_client_still_gets_its_exact_loopback_uri_rfc8252_7_3(server, web_app, user_for_consent):
    for uri in web_app.redirect_uris:
        location = Browser(server).authorize(params_for(web_app, uri)[1], user_for_consent)
        assert location.startswith(uri + "?") and "code" in query_params(location)


@pytest.mark.parametrize("uri", ["http://127.0.0.1:0/callback", "http://[::1]:0/cb", "http://127.0.0.1:65536/callback"])
def test_port_zero_or_out_of_range_is_an_error_page_rfc8252_7_3(server, native, uri):
    """Port 0 is no port a listener can be reached on; 65536 is none at all (RFC 3986 §3.2.3, RFC 793)."""
    r = Browser(server).open_authorize(params_for(native, uri)[1])
    assert r.status_code == 400 and "Location" not in r.headers


BAD_PORTS = ["https://app.example.org:99999/cb", "https://app.example.org:0/cb", "http://127.0.0.1:0/callback",
             "http://127.0.0.1:65536/callback", "https://app.example.org:-1/cb"]


@pytest.mark.parametrize("uri", BAD_PORTS)
def test_registration_refuses_a_port_out_of_range_rfc6749_3_1_2(admin, uri):
    body = assert_invalid(admin.post("/oauth/clients", json={"name": "bad port", "redirect_uris": [uri]}),
                          "redirect_uris")
    assert "port" in body["errors"]["redirect_uris"][0]


def test_editing_refuses_a_port_out_of_range_rfc6749_3_1_2(admin):
    client = admin.ok("POST", "/oauth/clients", 201, json={"name": "good port", "redirect_uris": ["https://a.example/cb"]})
    assert_invalid(admin.put(f"/oauth/clients/{client['client_id']}",
                             json={"name": "good port", "redirect_uris": ["https://a.example:99999/cb"]}), "redirect_uris")
    assert admin.ok("GET", f"/oauth/clients/{client['client_id']}")["redirect_uris"] == ["https://a.example/cb"]


def test_the_cli_refuses_a_port_out_of_range(cli):
    line = one_line_error(cli("clients", "create", "--name", "bad port", "--redirect-uri", "http://127.0.0.1:99999/cb"))
    assert "port" in line


def test_the_client_page_refuses_a_port_out_of_range(server):
    browser = Browser(server)
    browser.login(User("admin", server.admin_password, "", 1))
    form = browser.single_form(browser.get("/admin/auth-clients/new"))
    r = browser.post("/admin/auth-clients/new", data={
        "csrf_token": form.input("csrf_token")["value"], "name": "bad port", "kind": "confidential",
        "redirect_uris": "https://app.example.org:0/cb", "grants": "authorization_code"})
    assert r.status_code == 422 and "port" in parse_page(r.text).text
