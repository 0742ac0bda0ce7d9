"""Browser sessions against fixation and cookie tossing: signing in again replaces the session id and
ends the old one (OWASP ASVS 3.2.1, session fixation; RFC 6749 §10.12's CSRF protection rests on it),
and with an https issuer every cookie carries the ``__Host-`` prefix, so that the browser keeps it
Secure, host-only and on ``Path=/`` (RFC 6265bis §4.1.3.2)."""

from __future__ import annotations

import pytest
import requests

from support import HTTP_TIMEOUT, Browser, parse_page, user_via_api


def profile_status(server, cookie_name: str, value: str) -> int:
    r = requests.get(server.url("/profile"), cookies={cookie_name: value}, allow_redirects=False, timeout=HTTP_TIMEOUT)
    return r.status_code


def test_signing_in_again_ends_the_previous_session_asvs_3_2_1(server, admin):
    user = user_via_api(admin)
    browser = Browser(server)
    browser.login(user)
    first = browser.session.cookies["authgate_session"]
    assert profile_status(server, "authgate_session", first) == 200
    browser.login(user)  # the same browser: it sends the first cookie with the sign-in
    second = browser.session.cookies["authgate_session"]
    assert second != first
    assert profile_status(server, "authgate_session", first) == 303, "the replaced session id still works"
    assert profile_status(server, "authgate_session", second) == 200


def test_a_planted_session_id_is_worthless_after_the_victim_signs_in_asvs_3_2_1(server, admin):
    """Session fixation: the attacker signs in, plants their session id in the victim's browser, and
    waits; the victim's sign-in must end that id rather than leave the attacker a session to watch."""
    attacker, victim = user_via_api(admin), user_via_api(admin)
    attackers_browser = Browser(server)
    attackers_browser.login(attacker)
    planted = attackers_browser.session.cookies["authgate_session"]
    victims_browser = Browser(server)
    victims_browser.session.cookies.set("authgate_session", planted)
    victims_browser.login(victim)
    assert profile_status(server, "authgate_session", planted) == 303
    assert victims_browser.get("/profile").status_code == 200


@pytest.fixture(scope="module")
def https_server(server_factory):
    """An issuer behind a TLS proxy; the tests reach the server itself over plain http on loopback."""
    return server_factory({"AUTHGATE_ISSUER": "https://auth.example.test"})


def set_cookies(response: requests.Response) -> dict[str, list[str]]:
    """Each Set-Cookie header by cookie name: its value first, then its attributes lowercased."""
    out = {}
    for header in response.raw.headers.getlist("Set-Cookie"):
        pair, *attributes = [part.strip() for part in header.split(";")]
        name, _, value = pair.partition("=")
        out[name] = [value] + [a.lower() for a in attributes]
    return out


def assert_host_cookie(attributes: list[str]) -> None:
    """RFC 6265bis §4.1.3.2: Secure, Path=/, no Domain (and authgate's own HttpOnly)."""
    assert "secure" in attributes and "path=/" in attributes and "httponly" in attributes, attributes
    assert not any(a.startswith("domain") for a in attributes), attributes


def test_https_issuer_cookies_use_the_host_prefix_rfc6265bis_4_1_3_2(https_server):
    srv = https_server
    user = srv.create_user()
    login_page = requests.get(srv.url("/login"), timeout=HTTP_TIMEOUT)
    cookies = set_cookies(login_page)
    assert list(cookies) == ["__Host-authgate_csrf"], cookies
    assert_host_cookie(cookies["__Host-authgate_csrf"][1:])
    nonce = cookies["__Host-authgate_csrf"][0]

    form = [f for f in parse_page(login_page.text).forms if f.method == "post"][0].fields()
    signed_in = requests.post(srv.url("/login"), data={**form, "username": user.username, "password": user.password},
                              cookies={"__Host-authgate_csrf": nonce}, allow_redirects=False, timeout=HTTP_TIMEOUT)
    assert signed_in.status_code == 303, signed_in.text[:300]
    cookies = set_cookies(signed_in)
    assert list(cookies) == ["__Host-authgate_session"], cookies
    assert_host_cookie(cookies["__Host-authgate_session"][1:])
    session_id = cookies["__Host-authgate_session"][0]

    assert profile_status(srv, "__Host-authgate_session", session_id) == 200
    assert profile_status(srv, "authgate_session", session_id) == 303, "the unprefixed name must not be read"

    logout_page = requests.get(srv.url("/logout"), cookies={"__Host-authgate_session": session_id},
                               timeout=HTTP_TIMEOUT, allow_redirects=False)
    csrf = [f for f in parse_page(logout_page.text).forms if f.method == "post"][0].fields()
    signed_out = requests.post(srv.url("/logout"), data=csrf, cookies={"__Host-authgate_session": session_id},
                               allow_redirects=False, timeout=HTTP_TIMEOUT)
    assert signed_out.status_code == 303
    deleted = set_cookies(signed_out)["__Host-authgate_session"]
    assert_host_cookie(deleted[1:])  # a browser ignores a __Host- deletion that is not Secure
    assert "max-age=0" in deleted
    assert profile_status(srv, "__Host-authgate_session", session_id) == 303


def test_http_issuer_cookies_keep_their_plain_names(server):
    cookies = set_cookies(requests.get(server.url("/login"), timeout=HTTP_TIMEOUT))
    assert list(cookies) == ["authgate_csrf"] and "secure" not in cookies["authgate_csrf"]
