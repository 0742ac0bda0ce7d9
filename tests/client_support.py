"""Helpers for the tests of the Python client (tests/test_client_*.py): a person at a browser that
the client "opens", the approval of a device code on the server's page, and a token the server already
refuses.

Everything here talks to the real server over HTTP, as a person or another program would.
"""

from __future__ import annotations

import time
from urllib.parse import urljoin, urlsplit

import requests

from support import HTTP_TIMEOUT, Browser, ServerProcess, User, parse_page, password_grant, refresh, users_me


STRICT_SHORT_ENV = {"AUTHGATE_ACCESS_TOKEN_TTL": "3", "AUTHGATE_REFRESH_GRACE_SECONDS": "0"}


def strict_short_server(server_factory) -> ServerProcess:
    """The server of a client test module (``server_factory`` stops it when the module ends): access tokens live
    three seconds, and a refresh token presented twice revokes its family at once (no grace window), so a client
    that refreshed twice with one token, or lost a rotated one, is seen at the server."""
    return server_factory(STRICT_SHORT_ENV)


def metadata(server: ServerProcess) -> dict | None:
    r = requests.get(server.url("/.well-known/oauth-authorization-server"), timeout=HTTP_TIMEOUT)
    return r.json() if r.status_code == 200 else None


class FakeBrowserOpener:
    """Stands in for ``webbrowser.open``: a person signs in, decides on the consent page, and the
    browser follows the redirect to the client's loopback listener."""

    def __init__(self, server: ServerProcess, user: User, decision: str = "approve", forged_state_first: bool = False):
        self.server = server
        self.user = user
        self.decision = decision
        self.forged_state_first = forged_state_first
        self.opened: list[str] = []
        self.loopback_answers: list[requests.Response] = []

    def __call__(self, url: str, new: int = 0, autoraise: bool = True) -> bool:
        self.opened.append(url)
        location = Browser(self.server).authorize(url, self.user, self.decision)
        if self.forged_state_first:
            parts = urlsplit(location)
            forged = f"{parts.scheme}://{parts.netloc}{parts.path}?code=forged&state=not-the-state"
            self.loopback_answers.append(requests.get(forged, timeout=HTTP_TIMEOUT))
        self.loopback_answers.append(requests.get(location, timeout=HTTP_TIMEOUT))
        return True


def approve_device(server: ServerProcess, user: User, user_code: str, verification_uri: str,
                   decision: str = "approve") -> requests.Response:
    """A person opens the verification URI, signs in if asked, types the user code where a form asks
    for it, and presses the button for ``decision`` (RFC 8628 §3.3). Returns the last page."""
    browser = Browser(server)
    r = browser.get(verification_uri)
    for _ in range(10):
        if r.status_code in (301, 302, 303, 307, 308):
            target = urljoin(r.url, r.headers["Location"])
            if urlsplit(target).path == "/login":
                login = browser.get(target)
                r = browser.submit_login(login, browser.single_form(login), user.username, user.password)
            else:
                r = browser.get(target)
            continue
        assert r.status_code < 400, f"device page: {r.status_code} {r.text[:500]}"
        forms = [f for f in parse_page(r.text).forms if f.method in ("get", "post")]
        if not forms:
            return r
        form = forms[0]
        data = form.fields()
        if "user_code" in data and not data["user_code"]:
            data["user_code"] = user_code
        for name in {b.get("name") for b in form.buttons if b.get("name")}:
            values = [b.get("value") for b in form.buttons if b.get("name") == name]
            data[name] = decision if decision in values else values[0]
        action = urljoin(r.url, form.action or r.url)
        if form.method == "get":
            r = browser.session.get(action, params=data, allow_redirects=False, timeout=HTTP_TIMEOUT)
        else:
            r = browser.session.post(action, data=data, allow_redirects=False, timeout=HTTP_TIMEOUT)
    raise AssertionError(f"the device pages did not come to an end: {r.status_code} {r.text[:500]}")


def refused_access_token(server: ServerProcess, app, user: User) -> str:
    """A real access token of this server that it now refuses (its family was revoked after a
    refresh-token reuse, RFC 9700 §4.14.2) — what a client holds after clock skew or a revocation.
    Needs a server without a refresh grace window (``strict_short_server``)."""
    first = password_grant(server, app, user, scope="users:read").json()
    assert refresh(server, app, first["refresh_token"]).status_code == 200
    assert refresh(server, app, first["refresh_token"]).status_code == 400
    assert users_me(server, first["access_token"]).status_code == 401
    return first["access_token"]


def wait_until(predicate, timeout: float = 10.0, step: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return predicate()
