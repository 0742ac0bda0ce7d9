"""OpenID Connect sign-out: RP-Initiated Logout 1.0 (§2 the request, §3 post-logout redirection, §4 errors) and
Back-Channel Logout 1.0 (§2.1 ``sid`` in ID tokens, §2.2 the client's ``backchannel_logout_uri``, §2.4 the Logout
Token, §2.5 its POST, §2.8 the relying party's answer), with a relying party's back-channel endpoint served by the
test on loopback. The server is the session-wide one; its background thread posts the tokens."""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests
from joserfc import jwt
from joserfc.jwk import KeySet

from support import (Browser, Client, User, admin_api, authorization_params, eventually, exchange_code, jwt_parts,
                     parse_page, password_grant, query_params, unique)

EVENT = "http://schemas.openid.net/event/backchannel-logout"


class RelyingParty:
    """A back-channel logout endpoint on 127.0.0.1: records each POST body; answers the statuses queued, then 200."""

    def __init__(self, answers: threading.Event | None = None):
        """``answers``: when given, each POST is answered only once it is set (a relying party that hangs)."""
        self.received: list[dict] = []
        self.statuses: list[int] = []
        rp = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
                rp.received.append({"content_type": self.headers.get("Content-Type"), **parse_qs(body)})
                if answers is not None:
                    answers.wait(30)
                status = rp.statuses.pop(0) if rp.statuses else 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.uri = f"http://127.0.0.1:{self.httpd.server_address[1]}/backchannel"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def wait_for(self, count: int, timeout: float = 20.0) -> list[dict]:
        deadline = time.monotonic() + timeout
        while len(self.received) < count and time.monotonic() < deadline:
            time.sleep(0.1)
        assert len(self.received) >= count, f"expected {count} logout token(s), got {len(self.received)}"
        return self.received

    def close(self):
        self.httpd.shutdown()


@pytest.fixture
def relying_party():
    rp = RelyingParty()
    yield rp
    rp.close()


def make_rp(server, backchannel_uri: str | None = None, **extra) -> dict:
    """A client registered with the CLI, sign-out URIs included."""
    name = unique("rp")
    args = ["clients", "create", "--name", name, "--redirect-uri", f"https://{name}.example.org/cb",
            "--grant", "authorization_code", "--post-logout-redirect-uri", f"https://{name}.example.org/bye"]
    if backchannel_uri:
        args += ["--backchannel-logout-uri", backchannel_uri]
    data = server.commands.run_json(*args)
    data["redirect_uri"] = f"https://{name}.example.org/cb"
    data["bye"] = f"https://{name}.example.org/bye"
    return data


def _client(rp: dict) -> Client:
    return Client(rp["client_id"], rp["client_secret"], rp["name"], [rp["redirect_uri"]])


def signed_in_with_id_token(server, rp: dict, user) -> tuple[Browser, str]:
    browser = Browser(server)
    browser.login(user)
    client = _client(rp)
    location = browser.authorize(authorization_params(client, scope="openid", nonce=unique("n")), user)
    resp = exchange_code(server, client, query_params(location)["code"])
    assert resp.status_code == 200, resp.text
    return browser, resp.json()["id_token"]


def keys(server) -> KeySet:
    return KeySet.import_key_set(requests.get(server.url("/oauth/jwks"), timeout=10).json())


def verified(server, token: str) -> dict:
    return jwt.decode(token, keys(server), algorithms=[jwt_parts(token)[0]["alg"]]).claims


def signed_in(browser: Browser) -> bool:
    return browser.get("/logout").status_code == 200


def assert_logout_token(server, received: dict, client_id: str, sub: str, sid: str | None) -> dict:
    """Back-Channel Logout §2.4 / §2.5: a signed JWT, typ logout+jwt, posted as a form."""
    assert received["content_type"] == "application/x-www-form-urlencoded"
    token = received["logout_token"][0]
    header, _ = jwt_parts(token)
    assert header["typ"] == "logout+jwt"
    claims = verified(server, token)
    assert claims["iss"] == server.issuer and claims["aud"] == client_id and claims["sub"] == sub
    assert claims["events"] == {EVENT: {}}
    assert "nonce" not in claims
    assert claims["jti"] and claims["iat"] <= time.time() + 5 < claims["exp"] + 5 and claims["exp"] - claims["iat"] <= 300
    assert claims.get("sid") == sid
    return claims


def test_metadata_advertises_logout(server):
    """Back-Channel Logout §2.1 and RP-Initiated Logout §2.1: the provider metadata."""
    doc = requests.get(server.url("/.well-known/openid-configuration"), timeout=10).json()
    assert doc["end_session_endpoint"] == server.issuer + "/oauth/logout"
    assert doc["backchannel_logout_supported"] is True and doc["backchannel_logout_session_supported"] is True
    assert "frontchannel_logout_supported" not in doc


def test_rp_initiated_logout_reaches_the_back_channel(server, relying_party):
    """RP-Initiated Logout §2-§3 with Back-Channel Logout §2.4-§2.5: the ID token has a sid; signing out with its
    hint redirects to the registered URI with state at once, ends the session, and the relying party receives a
    logout token with that sid that verifies against /oauth/jwks."""
    user = server.create_user()
    rp = make_rp(server, relying_party.uri)
    browser, id_token = signed_in_with_id_token(server, rp, user)
    sid = verified(server, id_token)["sid"]
    assert sid and len(sid) >= 16
    r = browser.get("/oauth/logout?" + urlencode({"id_token_hint": id_token, "post_logout_redirect_uri": rp["bye"],
                                                  "state": "st-42", "ui_locales": "fr"}))
    assert r.status_code == 303, r.text[:500]
    assert r.headers["Location"] == rp["bye"] + "?state=st-42"
    assert not signed_in(browser)
    [received] = relying_party.wait_for(1)
    assert_logout_token(server, received, rp["client_id"], str(user.id), sid)


def test_sid_is_one_per_session_and_not_the_cookie(server):
    """Back-Channel Logout §2.1: sid names the session, the same for every client in it, and is not its secret."""
    user = server.create_user()
    first, second = make_rp(server), make_rp(server)
    browser, token_a = signed_in_with_id_token(server, first, user)
    client = _client(second)
    location = browser.authorize(authorization_params(client, scope="openid"), user)
    token_b = exchange_code(server, client, query_params(location)["code"]).json()["id_token"]
    sid = verified(server, token_a)["sid"]
    assert verified(server, token_b)["sid"] == sid
    assert sid not in browser.session.cookies.values()
    _, other = signed_in_with_id_token(server, first, user)
    assert verified(server, other)["sid"] != sid


def test_an_administrator_ending_sessions_reaches_the_back_channel(server, admin, relying_party):
    """Back-Channel Logout §2.4: an administrator ending the user's sessions (API) sends the token with the sid."""
    user = server.create_user()
    rp = make_rp(server, relying_party.uri)
    browser, id_token = signed_in_with_id_token(server, rp, user)
    admin.ok("DELETE", f"/users/{user.id}/sessions", status=204)
    assert not signed_in(browser)
    [received] = relying_party.wait_for(1)
    assert_logout_token(server, received, rp["client_id"], str(user.id), verified(server, id_token)["sid"])


def test_the_cli_ending_sessions_is_delivered_by_the_server(server, relying_party):
    """A command-line `users end-sessions` queues the token; the running server posts it (§2.5)."""
    user = server.create_user()
    rp = make_rp(server, relying_party.uri)
    _, id_token = signed_in_with_id_token(server, rp, user)
    server.commands.run_json("users", "end-sessions", user.username)
    [received] = relying_party.wait_for(1)
    assert_logout_token(server, received, rp["client_id"], str(user.id), verified(server, id_token)["sid"])


def test_a_failed_delivery_is_tried_again(server, admin, relying_party):
    """Back-Channel Logout §2.8: the relying party answers 500, then 200: a second POST follows, and both attempts
    are in the security log, without the token."""
    user = server.create_user()
    rp = make_rp(server, relying_party.uri)
    relying_party.statuses = [500]
    browser, _ = signed_in_with_id_token(server, rp, user)
    form = Browser.single_form(browser.get("/logout"))
    assert browser.post("/logout", data=form.fields()).status_code == 303
    _, second = relying_party.wait_for(2)
    events = admin.ok("GET", "/security_logs", params={"filter": rp["client_id"], "per_page": 50})["data"]
    mine = [e for e in events if e["event"].startswith("logout.")]
    assert [e["event"] for e in sorted(mine, key=lambda e: e["id"])] == ["logout.delivery_failed", "logout.delivered"]
    failed = next(e for e in mine if e["event"] == "logout.delivery_failed")
    assert failed["details"]["outcome"] == "HTTP 500" and failed["details"]["retry_in"] > 0
    assert all(second["logout_token"][0] not in str(e) for e in mine)


def test_a_relying_party_that_hangs_holds_up_no_other(server, admin, relying_party):
    """Back-Channel Logout §2.5/§2.8: each logout token is posted on its own; while one relying party leaves its POST
    unanswered (until authgate's timeout), another relying party's token is delivered, before the hung one is
    recorded as failed."""
    answers = threading.Event()
    hung = RelyingParty(answers)
    try:
        hung_rp, quick_rp = make_rp(server, hung.uri), make_rp(server, relying_party.uri)
        first, _ = signed_in_with_id_token(server, hung_rp, server.create_user())
        second, _ = signed_in_with_id_token(server, quick_rp, server.create_user())
        assert first.post("/logout", data=Browser.single_form(first.get("/logout")).fields()).status_code == 303
        hung.wait_for(1)
        assert second.post("/logout", data=Browser.single_form(second.get("/logout")).fields()).status_code == 303
        relying_party.wait_for(1)

        def first_id(client_id: str, event: str) -> int | None:
            return min((e["id"] for e in admin.ok("GET", "/security_logs", params={
                "filter": client_id, "per_page": 50})["data"] if e["event"] == event), default=None)

        delivered = eventually(lambda: first_id(quick_rp["client_id"], "logout.delivered"), bool, timeout=10)
        failed = eventually(lambda: first_id(hung_rp["client_id"], "logout.delivery_failed"), bool, timeout=20)
        assert delivered and failed
        assert delivered < failed, "the quick relying party waited for the hung one"
    finally:
        answers.set()
        hung.close()


def test_without_a_hint_the_user_confirms(server):
    """RP-Initiated Logout §2: without an id_token_hint the user is asked first (a CSRF-protected form); then the
    browser goes to the registered URI with state."""
    user = server.create_user()
    rp = make_rp(server)
    browser, _ = signed_in_with_id_token(server, rp, user)
    query = urlencode({"client_id": rp["client_id"], "post_logout_redirect_uri": rp["bye"], "state": "s1"})
    page = browser.get("/oauth/logout?" + query)
    assert page.status_code == 200 and "Sign out?" in page.text
    assert signed_in(browser)
    form = Browser.single_form(page)
    forged = {**form.fields(), "csrf_token": "x" * 64}
    assert browser.post("/oauth/logout", data=forged).status_code in (400, 403)
    assert signed_in(browser)
    r = browser.post("/oauth/logout", data=form.fields())
    assert r.status_code == 303 and r.headers["Location"] == rp["bye"] + "?state=s1"
    assert not signed_in(browser)


def test_an_applications_post_is_the_same_request(server):
    """RP-Initiated Logout §2: the request may be a POST; it is sent on as a GET (the cookie is SameSite=Lax)."""
    rp = make_rp(server)
    r = requests.post(server.url("/oauth/logout"), data={"client_id": rp["client_id"], "state": "p"},
                      allow_redirects=False, timeout=10)
    assert r.status_code == 303
    assert urlsplit(r.headers["Location"]).path == "/oauth/logout"
    assert parse_qs(urlsplit(r.headers["Location"]).query) == {"client_id": [rp["client_id"]], "state": ["p"]}


def test_a_hint_for_another_client_is_refused(server):
    """RP-Initiated Logout §2 and §4: client_id must be an audience of the hint; else an error page, no redirect,
    and the session goes on."""
    user = server.create_user()
    mine, other = make_rp(server), make_rp(server)
    browser, id_token = signed_in_with_id_token(server, mine, user)
    r = browser.get("/oauth/logout?" + urlencode({"id_token_hint": id_token, "client_id": other["client_id"],
                                                  "post_logout_redirect_uri": other["bye"]}))
    assert r.status_code == 400 and "Location" not in r.headers
    assert "not issued to the client" in r.text
    assert signed_in(browser)


def test_an_unregistered_redirect_is_not_followed(server):
    """RP-Initiated Logout §3.1: a post_logout_redirect_uri not registered for the client is never followed; the
    user is signed out and sees the signed-out page."""
    user = server.create_user()
    rp = make_rp(server)
    browser, id_token = signed_in_with_id_token(server, rp, user)
    r = browser.get("/oauth/logout?" + urlencode({"id_token_hint": id_token, "state": "x",
                                                  "post_logout_redirect_uri": "https://evil.example.net/bye"}))
    assert r.status_code == 200 and "Location" not in r.headers
    assert "You are signed out" in parse_page(r.text).text and "not registered" in r.text
    assert not signed_in(browser)


def test_a_forged_hint_is_not_trusted(server):
    """RP-Initiated Logout §2, §4: a hint authgate did not sign asks the user, and nothing is followed after."""
    user = server.create_user()
    rp = make_rp(server)
    browser, id_token = signed_in_with_id_token(server, rp, user)
    head, body, _ = id_token.split(".")
    page = browser.get("/oauth/logout?" + urlencode({"id_token_hint": f"{head}.{body}.AAAA",
                                                     "post_logout_redirect_uri": rp["bye"]}))
    assert page.status_code == 200 and "Sign out?" in page.text
    r = browser.post("/oauth/logout", data=Browser.single_form(page).fields())
    assert r.status_code == 200 and "Location" not in r.headers
    assert not signed_in(browser)


def test_backchannel_uris_must_be_https_or_loopback(server, admin):
    """Back-Channel Logout §2.2 (and authgate's rule): http only on a loopback host; no fragment."""
    base = {"name": unique("rp"), "redirect_uris": ["https://rp.example.org/cb"]}
    for bad in ("http://rp.example.org/bc", "https://rp.example.org/bc#x", "ftp://rp.example.org/bc"):
        r = admin.post("/oauth/clients", json={**base, "backchannel_logout_uri": bad})
        assert r.status_code == 422, (bad, r.text)
    made = admin.ok("POST", "/oauth/clients", status=201,
                    json={**base, "backchannel_logout_uri": "http://127.0.0.1:9/bc",
                          "backchannel_logout_session_required": True,
                          "post_logout_redirect_uris": ["https://rp.example.org/bye"]})
    assert made["backchannel_logout_uri"] == "http://127.0.0.1:9/bc"
    assert made["backchannel_logout_session_required"] is True
    assert made["post_logout_redirect_uris"] == ["https://rp.example.org/bye"]
    changed = admin.ok("PUT", f"/oauth/clients/{made['client_id']}", json={"backchannel_logout_uri": ""})
    assert changed["backchannel_logout_uri"] is None
    assert changed["post_logout_redirect_uris"] == ["https://rp.example.org/bye"]


def test_an_expired_hint_still_signs_out_at_once(short_ttl_server):
    """RP-Initiated Logout §2: the OP should accept an ID token hint whose exp has passed."""
    server = short_ttl_server
    user = server.create_user()
    rp = make_rp(server)
    browser, id_token = signed_in_with_id_token(server, rp, user)
    time.sleep(max(0.0, verified(server, id_token)["exp"] - time.time()) + 1.1)
    r = browser.get("/oauth/logout?" + urlencode({"id_token_hint": id_token, "post_logout_redirect_uri": rp["bye"]}))
    assert r.status_code == 303 and r.headers["Location"] == rp["bye"]
    assert not signed_in(browser)


def test_signing_out_the_other_sessions_reaches_their_clients(server, relying_party):
    """Back-Channel Logout §2.4: "sign out all other sessions" on the account page sends the other session's sid
    only; the session asking stays."""
    user = server.create_user()
    rp = make_rp(server, relying_party.uri)
    here, here_token = signed_in_with_id_token(server, rp, user)
    there, there_token = signed_in_with_id_token(server, rp, user)
    profile = here.get("/profile")
    form = next(f for f in parse_page(profile.text).forms if f.action == "/profile/sessions/end-others")
    assert here.post(form.action, data=form.fields()).status_code == 303
    [received] = relying_party.wait_for(1)
    assert_logout_token(server, received, rp["client_id"], str(user.id), verified(server, there_token)["sid"])
    assert signed_in(here) and not signed_in(there)
    time.sleep(1.5)
    assert len(relying_party.received) == 1


def test_deactivation_reaches_clients_without_a_session(server, admin, relying_party):
    """Back-Channel Logout §2.4: when every session of a user ends (here: deactivation), a client that got tokens
    without a browser session (the password grant) gets a token with sub and no sid."""
    user = server.create_user()
    data = server.commands.run_json("clients", "create", "--name", unique("svc"), "--grant", "password",
                                    "--backchannel-logout-uri", relying_party.uri)
    client = Client(data["client_id"], data["client_secret"], data["name"], [])
    assert password_grant(server, client, user).status_code == 200
    admin.ok("PUT", f"/users/{user.id}", json={"status": "INACTIVE"})
    [received] = relying_party.wait_for(1)
    assert_logout_token(server, received, client.client_id, str(user.id), None)


@pytest.fixture(scope="module")
def registering(server_factory):
    return server_factory({"AUTHGATE_REGISTRATION": "open"})


def test_dynamic_registration_takes_the_logout_metadata(registering):
    """Back-Channel Logout §2.2 and RP-Initiated Logout §3.1 metadata in RFC 7591 registration; a plain-http
    back-channel URI off loopback is invalid_client_metadata."""
    base = {"client_name": unique("dyn"), "redirect_uris": ["https://dyn.example.org/cb"]}
    r = requests.post(registering.url("/oauth/register"), timeout=10,
                      json={**base, "backchannel_logout_uri": "http://dyn.example.org/bc"})
    assert r.status_code == 400 and r.json()["error"] == "invalid_client_metadata"
    r = requests.post(registering.url("/oauth/register"), timeout=10,
                      json={**base, "backchannel_logout_uri": "https://dyn.example.org/bc",
                            "backchannel_logout_session_required": True,
                            "post_logout_redirect_uris": ["https://dyn.example.org/bye"]})
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["backchannel_logout_uri"] == "https://dyn.example.org/bc"
    assert body["backchannel_logout_session_required"] is True
    assert body["post_logout_redirect_uris"] == ["https://dyn.example.org/bye"]


def test_the_admin_client_form_sets_the_logout_uris(server, admin):
    """The Auth Clients form's Sign-out fields (Back-Channel Logout §2.2, RP-Initiated Logout §3.1); a plain-http
    back-channel URI off loopback shows the form again with the reason."""
    browser = Browser(server)
    browser.login(User("admin", server.admin_password, "", 1))
    form = Browser.single_form(browser.get("/admin/auth-clients/new")).fields()
    name = unique("form")
    form.update(name=name, redirect_uris="https://form.example.org/cb", kind="confidential",
                post_logout_redirect_uris="https://form.example.org/bye\nhttps://form.example.org/bye2",
                backchannel_logout_uri="http://form.example.org/bc")
    refused = browser.post("/admin/auth-clients/new", data=form)
    assert refused.status_code == 422 and "backchannel_logout_uri" in refused.text
    form.update(backchannel_logout_uri="https://form.example.org/bc", backchannel_logout_session_required="1")
    assert browser.post("/admin/auth-clients/new", data=form).status_code in (200, 303)
    made = next(c for c in admin.ok("GET", "/oauth/clients", params={"filter": name})["data"] if c["name"] == name)
    assert made["post_logout_redirect_uris"] == ["https://form.example.org/bye", "https://form.example.org/bye2"]
    assert made["backchannel_logout_uri"] == "https://form.example.org/bc"
    assert made["backchannel_logout_session_required"] is True


def test_a_client_that_registered_itself_cannot_make_authgate_post_into_its_network(server_factory, relying_party):
    """RFC 7591 §5 (server-side request forgery) with Back-Channel Logout §2.5: anyone may register in open mode,
    so a self-registered client's back-channel URI gets only what the safe fetcher allows — a public address. One on
    127.0.0.1 receives nothing, and the security log says it was refused (not tried again)."""
    srv = server_factory({"AUTHGATE_REGISTRATION": "open"})
    made = requests.post(srv.url("/oauth/register"), json={
        "redirect_uris": ["https://self.example.org/cb"], "client_name": unique("self"),
        "grant_types": ["authorization_code"], "response_types": ["code"], "scope": "openid",
        "backchannel_logout_uri": relying_party.uri}, timeout=10)
    assert made.status_code == 201, made.text
    rp = {"client_id": made.json()["client_id"], "client_secret": made.json()["client_secret"],
          "name": made.json()["client_name"], "redirect_uri": "https://self.example.org/cb"}
    user = srv.create_user()
    browser, _ = signed_in_with_id_token(srv, rp, user)
    form = Browser.single_form(browser.get("/logout"))
    assert browser.post("/logout", data=form.fields()).status_code == 303
    logs = admin_api(srv)
    failed = eventually(lambda: [e for e in logs.ok("GET", "/security_logs", params={"filter": rp["client_id"]})["data"]
                                 if e["event"] == "logout.delivery_failed"], bool, timeout=10)
    assert failed and failed[0]["details"]["outcome"].startswith("refused") and failed[0]["details"]["gave_up"]
    assert relying_party.received == []
