"""The authorization endpoint and the pages around it (RFC 6749 §3.1, §4.1.1,
§4.1.2, §4.1.2.1, §10.12): request validation (errors that must never be
redirected vs. errors redirected to the client with `state`), the state
echoed unchanged, sign-in required and back, consent Authorize/Cancel,
CSRF protection of login and consent, login `next` restricted to local paths,
logout, and the out-of-band code page.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

from support import Browser, authorization_params, parse_page, query_params, unique, user_via_api, without_query


@pytest.fixture
def user(admin):
    """A fresh user per test: consent is remembered per user and client, and these tests need the page."""
    return user_via_api(admin)


@pytest.fixture(scope="module")
def app(server):
    return server.create_client(
        name=unique("Photo Printer "),
        redirect_uris=[f"https://{unique('printer')}.example.org/cb", f"https://{unique('alt')}.example.org/cb"],
        scopes=["users:read", "profile", "email"],
    )


@pytest.fixture
def signed_in(server, user) -> Browser:
    b = Browser(server)
    b.login(user)
    return b


def assert_error_page_not_redirect(resp):
    assert resp.status_code == 400, f"{resp.status_code} Location={resp.headers.get('Location')}"
    assert "Location" not in resp.headers
    assert resp.headers.get("Content-Type", "").startswith("text/html")


def assert_error_redirect(resp, redirect_uri: str, error: str, state: str):
    assert resp.status_code == 302, f"{resp.status_code} {resp.text[:300]}"
    location = resp.headers["Location"]
    assert without_query(location) == redirect_uri, location
    q = query_params(location)
    assert q.get("error") == error, location
    assert q.get("state") == state, location
    assert "code" not in q


# ---- errors that must not be redirected (§4.1.2.1 first paragraph, §10.15) --------


@pytest.mark.parametrize("who", ["anonymous", "signed in"])
def test_unknown_client_id_is_an_error_page_not_a_redirect_rfc6749_4_1_2_1(server, app, user, who):
    b = Browser(server)
    if who == "signed in":
        b.login(user)
    p = authorization_params(app)
    p["client_id"] = "no-such-client-" + unique("c")
    assert_error_page_not_redirect(b.open_authorize(p))


def test_missing_client_id_is_an_error_page_not_a_redirect_rfc6749_4_1_2_1(server, app, signed_in):
    p = authorization_params(app)
    del p["client_id"]
    assert_error_page_not_redirect(signed_in.open_authorize(p))


@pytest.mark.parametrize(
    "mangle",
    [
        lambda u: "https://attacker.example.net/cb",
        lambda u: u + "/",
        lambda u: u + "?x=1",
        lambda u: u.replace("/cb", "/CB"),
        lambda u: u.replace("https://", "http://"),
        lambda u: u + "#frag",
    ],
    ids=["foreign", "trailing-slash", "extra-query", "path-case", "scheme", "fragment"],
)
def test_unregistered_redirect_uri_is_an_error_page_rfc6749_4_1_2_1(server, app, mangle):
    """Exact string match of redirect_uri (§3.1.2.3, §10.6); mismatch -> no redirect."""
    p = authorization_params(app, redirect_uri=mangle(app.redirect_uri))
    assert_error_page_not_redirect(Browser(server).open_authorize(p))


def test_redirect_uri_of_another_client_is_an_error_page_rfc6749_4_1_2_1(server, app, make_client):
    other = make_client(redirect_uris=["https://other.example.org/cb"])
    p = authorization_params(app, redirect_uri=other.redirect_uri)
    assert_error_page_not_redirect(Browser(server).open_authorize(p))


def test_missing_redirect_uri_is_an_error_page_rfc6749_4_1_2_1(server, app, signed_in):
    p = authorization_params(app)
    del p["redirect_uri"]
    assert_error_page_not_redirect(signed_in.open_authorize(p))


def test_bad_redirect_uri_wins_over_other_errors_rfc6749_4_1_2_1(server, app, signed_in):
    """Even with another error present, a bad redirect_uri is never redirected to."""
    p = authorization_params(app, redirect_uri="https://attacker.example.net/cb", scope="bogus-scope")
    p["response_type"] = "token"
    assert_error_page_not_redirect(signed_in.open_authorize(p))


# ---- errors redirected to the client with error + state (§4.1.2.1) -------------


@pytest.mark.parametrize("response_type", ["token", "id_token", "code token"])
def test_unsupported_response_type_redirects_with_error_rfc6749_4_1_2_1(app, signed_in, response_type):
    p = authorization_params(app, state="st-" + unique("s"))
    p["response_type"] = response_type
    assert_error_redirect(signed_in.open_authorize(p), app.redirect_uri, "unsupported_response_type", p["state"])


def test_missing_response_type_redirects_invalid_request_rfc6749_4_1_2_1(app, signed_in):
    """§4.1.2.1 invalid_request: the request is missing a required parameter."""
    p = authorization_params(app)
    del p["response_type"]
    assert_error_redirect(signed_in.open_authorize(p), app.redirect_uri, "invalid_request", p["state"])


@pytest.mark.parametrize("scope", ["no-such-scope", "users:read no-such-scope", "users:write", "*"])
def test_invalid_scope_redirects_with_error_rfc6749_4_1_2_1(app, signed_in, scope):
    """Unknown scopes and scopes outside the client's set (users:read profile email)."""
    p = authorization_params(app, scope=scope)
    assert_error_redirect(signed_in.open_authorize(p), app.redirect_uri, "invalid_scope", p["state"])


def test_repeated_parameter_redirects_invalid_request_rfc6749_3_1(app, signed_in):
    """§3.1: request and response parameters MUST NOT be included more than once."""
    p = authorization_params(app)
    query = urlencode(p) + "&" + urlencode({"scope": "profile"})
    resp = signed_in.open_authorize("/oauth/authorize?" + query)
    assert_error_redirect(resp, app.redirect_uri, "invalid_request", p["state"])


def test_error_redirect_to_second_registered_uri_rfc6749_4_1_2_1(app, signed_in):
    p = authorization_params(app, redirect_uri=app.redirect_uris[1], scope="no-such-scope")
    assert_error_redirect(signed_in.open_authorize(p), app.redirect_uris[1], "invalid_scope", p["state"])


# ---- sign in, consent, state ----------------------------------------------------


def test_not_signed_in_redirects_to_login_with_next_rfc6749_4_1_1(server, app):
    b = Browser(server)
    p = authorization_params(app)
    resp = b.open_authorize(p)
    assert resp.status_code == 303, resp.text[:300]
    loc = urlsplit(resp.headers["Location"])
    assert loc.netloc in ("", urlsplit(server.base_url).netloc)
    assert loc.path == "/login"
    next_value = query_params(resp.headers["Location"])["next"]
    nxt = urlsplit(next_value)
    assert (nxt.scheme, nxt.netloc, nxt.path) == ("", "", "/oauth/authorize")
    assert {k: v[0] for k, v in parse_qs(nxt.query).items()} == p


def test_login_then_back_to_authorize_then_consent_page_rfc6749_4_1_1(server, app, user):
    b = Browser(server)
    p = authorization_params(app, scope="users:read profile")
    first = b.open_authorize(p)
    assert first.status_code == 303
    login = b.get(first.headers["Location"])
    assert login.status_code == 200
    form = Browser.single_form(login)
    assert form.input("csrf_token") is not None and form.input("csrf_token").get("type") == "hidden"
    assert form.input("next") is not None and form.input("next").get("type") == "hidden"
    assert form.input("username") is not None and form.input("password") is not None
    assert "authgate_csrf" in b.session.cookies

    resp = b.submit_login(login, form, user.username, user.password)
    assert resp.status_code == 303, resp.text[:300]
    assert "authgate_session" in b.session.cookies
    back = urlsplit(resp.headers["Location"])
    assert back.path == "/oauth/authorize"
    assert {k: v[0] for k, v in parse_qs(back.query).items()} == p

    consent = b.get(resp.headers["Location"])
    assert consent.status_code == 200
    page = parse_page(consent.text)
    assert app.name in page.text
    forms = [f for f in page.forms if f.method == "post"]
    assert len(forms) == 1
    consent_form = forms[0]
    assert consent_form.input("csrf_token") is not None
    assert consent_form.input("csrf_token").get("type") == "hidden"
    buttons = {(bt.get("name"), bt.get("value")): bt["text"].strip() for bt in consent_form.buttons}
    assert buttons.get(("decision", "approve")) == "Authorize"
    assert buttons.get(("decision", "deny")) == "Cancel"
    action = urlsplit(consent_form.action or "")
    assert action.path in ("", "/oauth/authorize")


def test_consent_approve_redirects_with_code_and_state_rfc6749_4_1_2(server, app, user):
    p = authorization_params(app)
    location = Browser(server).authorize(p, user, "approve")
    assert without_query(location) == app.redirect_uri
    q = query_params(location)
    assert q["state"] == p["state"]
    assert len(q["code"]) >= 16
    assert "error" not in q


def test_consent_cancel_redirects_access_denied_rfc6749_4_1_2_1(server, app, user):
    p = authorization_params(app)
    location = Browser(server).authorize(p, user, "deny")
    assert without_query(location) == app.redirect_uri
    q = query_params(location)
    assert q.get("error") == "access_denied"
    assert q.get("state") == p["state"]
    assert "code" not in q


@pytest.mark.parametrize(
    "state",
    ["abc", "a b+c/d=e&f?g#h", "ünïcødé-✓", "%41%2F", "x" * 300],
    ids=["plain", "reserved-chars", "unicode", "percent", "long"],
)
def test_state_is_echoed_unchanged_rfc6749_4_1_2(server, app, user, state):
    p = authorization_params(app, state=state)
    location = Browser(server).authorize(p, user)
    assert query_params(location)["state"] == state


def test_without_state_the_redirect_has_no_state_rfc6749_4_1_2(server, app, user):
    p = authorization_params(app)
    del p["state"]
    location = Browser(server).authorize(p, user)
    q = query_params(location)
    assert "code" in q and "state" not in q


def test_redirect_uri_with_query_keeps_its_query_rfc6749_3_1_2(server, user, make_client):
    """§3.1.2: the endpoint URI may include a query component which MUST be retained."""
    uri = f"https://{unique('q')}.example.org/cb?tenant=42"
    client = make_client(redirect_uris=[uri])
    p = authorization_params(client, redirect_uri=uri)
    location = Browser(server).authorize(p, user)
    q = query_params(location)
    assert q["tenant"] == "42" and "code" in q and q["state"] == p["state"]
    assert location.startswith("https://") and urlsplit(location).path == "/cb"


# ---- CSRF ---------------------------------------------------------------------------


@pytest.mark.parametrize("token", [None, "forged-token"], ids=["missing", "wrong"])
def test_consent_post_without_valid_csrf_is_refused_rfc6749_10_12(server, app, user, token):
    b = Browser(server)
    p = authorization_params(app)
    consent = b.consent_page(p, user)
    form = Browser.single_form(consent)
    data = form.fields()
    if token is None:
        data.pop("csrf_token")
    else:
        data["csrf_token"] = token
    data["decision"] = "approve"
    resp = b.session.post(consent.url, data=data, allow_redirects=False)
    assert resp.status_code == 400, resp.status_code
    assert "Location" not in resp.headers
    # a genuine consent form still works: the refusal was about the token
    assert "code" in query_params(b.decide(b.consent_page(p, user), "approve").headers["Location"])


def test_consent_post_revalidates_redirect_uri_rfc6749_4_1_2_1(server, app, user):
    """A genuine CSRF token does not make a POST to a tampered authorization URL
    (foreign redirect_uri) redirect anywhere."""
    b = Browser(server)
    p = authorization_params(app)
    consent = b.consent_page(p, user)
    data = Browser.single_form(consent).fields()
    data["decision"] = "approve"
    tampered = {**p, "redirect_uri": "https://attacker.example.net/cb"}
    resp = b.post("/oauth/authorize?" + urlencode(tampered), data=data)
    assert_error_page_not_redirect(resp)


def test_consent_csrf_token_of_another_session_is_refused_rfc6749_10_12(server, app, user, make_user):
    """A cross-site attacker cannot reuse a token from their own session."""
    attacker, victim = Browser(server), Browser(server)
    p = authorization_params(app)
    attacker_form = Browser.single_form(attacker.consent_page(p, make_user()))
    victim_consent = victim.consent_page(p, user)
    data = {"csrf_token": attacker_form.fields()["csrf_token"], "decision": "approve"}
    resp = victim.session.post(victim_consent.url, data=data, allow_redirects=False)
    assert resp.status_code == 400
    assert "Location" not in resp.headers


@pytest.mark.parametrize("token", [None, "forged-token"], ids=["missing", "wrong"])
def test_login_without_valid_csrf_is_refused_rfc6749_10_12(server, app, user, token):
    b = Browser(server)
    login, form = b.login_page("/")
    data = form.fields()
    data.update(username=user.username, password=user.password)
    if token is None:
        data.pop("csrf_token")
    else:
        data["csrf_token"] = token
    resp = b.session.post(server.url("/login"), data=data, allow_redirects=False)
    assert resp.status_code == 400
    assert "authgate_session" not in resp.cookies
    # still not signed in
    nxt = b.open_authorize(authorization_params(app))
    assert nxt.status_code == 303 and urlsplit(nxt.headers["Location"]).path == "/login"


def test_login_without_csrf_cookie_is_refused_rfc6749_10_12(server, user):
    """The csrf_token from the page is bound to the browser's authgate_csrf cookie."""
    b = Browser(server)
    login, form = b.login_page("/")
    data = form.fields()
    data.update(username=user.username, password=user.password)
    fresh = Browser(server)  # has no authgate_csrf cookie
    resp = fresh.session.post(server.url("/login"), data=data, allow_redirects=False)
    assert resp.status_code == 400
    assert "authgate_session" not in resp.cookies


def test_login_wrong_password_shows_error(server, user):
    b = Browser(server)
    login, form = b.login_page("/")
    resp = b.submit_login(login, form, user.username, user.password + "-wrong")
    assert resp.status_code == 400
    assert "Invalid username or password" in parse_page(resp.text).text
    assert "authgate_session" not in resp.cookies


def test_login_unknown_user_shows_same_error(server):
    b = Browser(server)
    login, form = b.login_page("/")
    resp = b.submit_login(login, form, unique("nobody"), "whatever-password")
    assert resp.status_code == 400
    assert "Invalid username or password" in parse_page(resp.text).text


@pytest.mark.parametrize(
    "next_value,expected",
    [
        ("/some/local/page?x=1", "/some/local/page?x=1"),
        ("https://attacker.example.net/", "/"),
        ("//attacker.example.net/path", "/"),
        ("/\\attacker.example.net", "/"),
        ("javascript:alert(1)", "/"),
    ],
    ids=["local", "absolute", "scheme-relative", "backslash", "javascript"],
)
def test_login_next_only_local_paths_rfc6749_10_15(server, user, next_value, expected):
    """Open redirector protection (§10.15): `next` must be a local path, else `/`."""
    b = Browser(server)
    login, form = b.login_page(next_value)
    resp = b.submit_login(login, form, user.username, user.password)
    assert resp.status_code == 303
    loc = urlsplit(resp.headers["Location"])
    assert loc.scheme in ("", "http") and loc.netloc in ("", urlsplit(server.base_url).netloc), loc
    path = loc.path + ("?" + loc.query if loc.query else "")
    assert path == expected


def test_logout_ends_the_session(server, app, user):
    b = Browser(server)
    p = authorization_params(app)
    b.consent_page(p, user)
    assert b.open_authorize(p).status_code == 200  # signed in

    page = b.get("/logout")
    assert page.status_code == 200
    form = Browser.single_form(page)
    assert "csrf_token" in form.fields()
    resp = b.session.post(server.url("/logout"), data=form.fields(), allow_redirects=False)
    assert resp.status_code in (200, 302, 303)

    again = b.open_authorize(p)
    assert again.status_code == 303
    assert urlsplit(again.headers["Location"]).path == "/login"


def test_logout_without_csrf_keeps_the_session_rfc6749_10_12(server, app, user):
    b = Browser(server)
    p = authorization_params(app)
    b.consent_page(p, user)
    resp = b.session.post(server.url("/logout"), data={}, allow_redirects=False)
    assert resp.status_code >= 400
    assert b.open_authorize(p).status_code == 200  # still signed in


# ---- the out-of-band code page ----------------------------------------------------


def test_out_of_band_code_page_shows_the_code(server, user, make_client):
    oob = f"{server.issuer}/oauth/code"
    client = make_client(redirect_uris=[oob])
    b = Browser(server)
    p = authorization_params(client, redirect_uri=oob)
    location = b.authorize(p, user)
    assert without_query(location) == oob
    code = query_params(location)["code"]
    page = b.get(location)
    assert page.status_code == 200
    assert parse_page(page.text).by_id["authorization-code"] == code


def test_out_of_band_code_page_escapes_html(server):
    evil = "<script>alert(1)</script>"
    page = Browser(server).get("/oauth/code?" + urlencode({"code": evil, "state": "s"}))
    assert page.status_code == 200
    assert evil not in page.text
    assert parse_page(page.text).by_id["authorization-code"] == evil
