"""The second-factor policy and what OpenID Connect clients learn and ask of a sign-in, through real HTTP.

Policy: an administrator requires a second factor of everyone, of administrators, or of the members of groups (the
page, ``/api/1.0/security/factor_policy`` and ``authgate policy``); a user it covers who has none is taken through
enrolment after the password, and until a first code confirms the new factor there is no session (the pending
state opens nothing else: thought of as an attacker, ``/profile`` and ``/oauth/authorize`` are tried in between);
the password grant refuses them (RFC 6749 §5.2 ``invalid_grant``). Only administrators see or change it.

OpenID Connect: the ID token carries ``acr`` (Core §2) and ``amr`` (RFC 8176 §2); ``acr_values`` naming the
multi-factor class (Core §3.1.2.1, RFC 9470 §4) takes a password-only session through the second factor (or its
enrolment) before the code is issued; ``max_age`` (Core §3.1.2.1) re-authenticates an older session, second factor
included, and ``auth_time`` is in the ID token; introspection (RFC 7662 §2.2) shows ``amr`` and ``acr`` of access
and refresh tokens issued from such a sign-in (RFC 9068 §2.2.1 names them in JWT access tokens).

TOTP codes are computed here with pyotp from the secret the enrolment page shows, as an authenticator app would.
"""

from __future__ import annotations

import html
import re
import time
from urllib.parse import urlencode, urlsplit

import pyotp
import pytest

from support import (Api, Browser, api_for, assert_token_error, authorization_params, exchange_code, introspect,
                     jwt_parts, parse_page, password_grant, query_params, refresh, unique)
from support.api import admin_api, assert_forbidden, assert_invalid

ENROL = "/login/enrol"
SECOND_STEP = "/login/second-step"
PAGE = "/admin/sign-in-policy"
API_PATH = "/security/factor_policy"
ACR_MFA = "urn:authgate:acr:mfa"
ACR_1FA = "urn:authgate:acr:1fa"
LOCKOUT = 3


@pytest.fixture(scope="module")
def srv(server_factory):
    """Its own server: the policy is server-wide, and the tests here change it. A small lockout to reach."""
    return server_factory({"AUTHGATE_LOCKOUT": f"{LOCKOUT}/900", "AUTHGATE_LIMIT_LOGIN_PER_IP": "10000/300"})


def require(srv, *args: str) -> dict:
    """``authgate policy second-factor ...`` (the CLI's own parser and command, in this process)."""
    return srv.commands.run_json("policy", "second-factor", *args)


def csrf_of(response, action: str) -> list[tuple[str, str]]:
    forms = [f for f in parse_page(response.text).forms if f.method == "post" and f.action == action]
    assert len(forms) == 1, f"no single form to {action}:\n{response.text[:1500]}"
    return [("csrf_token", forms[0].input("csrf_token")["value"])]


def next_code(totp: pyotp.TOTP) -> str:
    """The next step's code: accepted (one step of drift, RFC 6238 §5.2) and later than any step used before."""
    return totp.at(time.time() + 30)


def shown_codes(browser: Browser) -> list[str]:
    shown = browser.get("/shown-once")
    assert shown.status_code == 200, shown.text[:500]
    return html.unescape(re.search(r'<textarea id="secret"[^>]*>([^<]*)</textarea>', shown.text).group(1)).split()


def password_only(browser: Browser, user, next_path: str = "/") -> str:
    """Sign in with the password; the Location it answers."""
    return browser.login(user, next_path).headers["Location"]


def sent_to_enrolment(srv, user, next_path: str = "/") -> Browser:
    """The password, for a user the policy covers who has no factor: the enrolment page next, and no session."""
    browser = Browser(srv)
    location = password_only(browser, user, next_path)
    assert urlsplit(location).path == ENROL, location
    assert query_params(location)["next"] == next_path
    assert "authgate_session" not in browser.session.cookies and "authgate_pending" in browser.session.cookies
    return browser


def enrolment_page(browser: Browser, next_path: str = "/"):
    """The enrolment page of a pending sign-in, and the authenticator app's view of the secret it shows."""
    page = browser.get(ENROL + "?" + urlencode({"next": next_path}))
    assert page.status_code == 200, page.text[:500]
    assert "<svg" in page.text
    return page, pyotp.TOTP(re.search(r'id="totp-secret" type="text" value="([A-Z2-7]+)"', page.text).group(1))


def enrol_here(browser: Browser, next_path: str = "/", session_before: bool = False) -> pyotp.TOTP:
    """Set up TOTP on the enrolment page of a pending sign-in; a wrong code first (refused, still no new session).
    ``session_before``: the browser holds a password-only session (a step-up), which the new one replaces."""
    before = browser.session.cookies.get("authgate_session")
    assert bool(before) == session_before
    page, totp = enrolment_page(browser, next_path)
    near = {totp.at(time.time() + drift) for drift in (-30, 0, 30, 60)}
    wrong = next(c for c in ("000000", "111111", "222222", "333333") if c not in near)
    refused = browser.post(ENROL, data=csrf_of(page, ENROL) + [("code", wrong), ("next", next_path)])
    assert refused.status_code == 422 and 'aria-describedby="code-error"' in refused.text
    assert browser.session.cookies.get("authgate_session") == before
    done = browser.post(ENROL, data=csrf_of(page, ENROL) + [("code", totp.now()), ("next", next_path)])
    assert done.status_code == 303 and done.headers["Location"] == "/shown-once", done.text[:500]
    assert browser.session.cookies.get("authgate_session") not in (None, before)
    assert len(shown_codes(browser)) == 10
    return totp


def second_step(browser: Browser, totp: pyotp.TOTP, next_path: str):
    page = browser.get(SECOND_STEP + "?" + urlencode({"next": next_path}))
    assert page.status_code == 200, page.text[:300]
    return browser.post(SECOND_STEP, data=csrf_of(page, SECOND_STEP) + [("code", next_code(totp)),
                                                                        ("next", next_path)])


def id_claims(srv, client, browser: Browser, **params) -> dict:
    """Approve an OpenID request in ``browser`` (signed in) and return the ID token's claims."""
    location = browser.authorize(authorization_params(client, scope="openid", **params), None)
    tokens = exchange_code(srv, client, query_params(location)["code"])
    assert tokens.status_code == 200, tokens.text
    return jwt_parts(tokens.json()["id_token"])[1]


@pytest.fixture
def rp(srv, redirect_uri):
    return srv.create_client(redirect_uris=[redirect_uri], grants=["authorization_code", "refresh_token"])


def test_everyone_a_fresh_user_enrols_after_the_password_and_has_no_session_until_then(srv, rp):
    require(srv, "--require", "everyone")
    user = srv.create_user()
    browser = sent_to_enrolment(srv, user)

    assert browser.get("/profile").status_code == 303, "the pending enrolment is no session"
    authorize = browser.open_authorize(authorization_params(rp, scope="openid"))
    assert authorize.status_code == 303 and urlsplit(authorize.headers["Location"]).path == "/login"
    assert browser.get(SECOND_STEP + "?next=/").headers["Location"].startswith(ENROL), "no code to enter yet"
    stolen = Browser(srv)
    stolen.session.cookies.set("authgate_session", browser.session.cookies["authgate_pending"])
    assert stolen.get("/profile").status_code == 303

    totp = enrol_here(browser)
    assert browser.get("/profile").status_code == 200
    assert browser.get(ENROL + "?next=/").status_code == 303, "the pending enrolment was spent"
    claims = id_claims(srv, rp, browser)
    assert claims["amr"] == ["pwd", "otp", "mfa"] and claims["acr"] == ACR_MFA

    again = Browser(srv)
    assert urlsplit(password_only(again, user)).path == SECOND_STEP, "now it has a factor: the code is asked"
    assert second_step(again, totp, "/").status_code == 303

    log = [line for line in srv.db.dump_text().splitlines() if user.username in line]
    for event in ("login.enrolment_required", "factor.enrolled", "login.second_factor_required"):
        assert any(event in line for line in log), event


def test_a_new_sign_in_replaces_the_secret_of_an_unfinished_enrolment(srv):
    """Someone who knew the password and stopped at the enrolment page cannot have the user scan *their* secret:
    the user's own sign-in makes a new one, and the old one confirms nothing."""
    require(srv, "--require", "everyone")
    user = srv.create_user()
    other = sent_to_enrolment(srv, user)
    other_page, theirs = enrolment_page(other)
    browser = sent_to_enrolment(srv, user)
    _, mine = enrolment_page(browser)
    assert mine.secret != theirs.secret and enrolment_page(browser)[1].secret == mine.secret, "a reload keeps it"
    refused = other.post(ENROL, data=csrf_of(other_page, ENROL) + [("code", theirs.now()), ("next", "/")])
    assert refused.status_code == 303 and urlsplit(refused.headers["Location"]).path == "/login"
    assert "authgate_session" not in other.session.cookies
    assert other.get(ENROL + "?next=/").status_code == 303, "the earlier pending sign-in no longer shows a secret"
    enrol_here(browser)
    require(srv, "--require", "off")


def test_policy_per_group_and_for_administrators_covers_only_them(srv):
    group = unique("mfa-group")
    srv.commands.run_json("groups", "create", group)
    member, outsider = srv.create_user(), srv.create_user()
    srv.commands.run_json("groups", "add-member", group, member.username)
    assert require(srv, "--group", group)["groups"][0]["name"] == group

    sent_to_enrolment(srv, member)
    assert password_only(Browser(srv), outsider) == "/"

    require(srv, "--require", "administrators")
    boss = srv.create_user(admin=True)
    sent_to_enrolment(srv, boss)
    assert password_only(Browser(srv), member) == "/"


def test_policy_off_signs_in_with_the_password_alone(srv):
    require(srv, "--require", "everyone")
    user = srv.create_user()
    sent_to_enrolment(srv, user)
    require(srv, "--require", "off")
    browser = Browser(srv)
    assert password_only(browser, user) == "/" and browser.get("/profile").status_code == 200


def test_the_password_grant_refuses_a_user_the_policy_covers_until_they_enrol_rfc6749_5_2(srv):
    client = srv.create_client(grants=["password"])
    user = srv.create_user()
    require(srv, "--require", "off")
    ok = password_grant(srv, client, user)
    assert ok.status_code == 200
    token = ok.json()["access_token"]
    assert jwt_parts(token)[1]["amr"] == ["pwd"] and jwt_parts(token)[1]["acr"] == ACR_1FA

    require(srv, "--require", "everyone")
    body = assert_token_error(password_grant(srv, client, user), "invalid_grant")
    assert "set up a second factor" in body["error_description"] and "browser" in body["error_description"]
    enrol_here(sent_to_enrolment(srv, user))
    body = assert_token_error(password_grant(srv, client, user), "invalid_grant")
    assert "has a second factor" in body["error_description"]
    require(srv, "--require", "off")


def test_acr_values_takes_a_password_only_session_through_the_second_factor_oidc_core_3_1_2_1(srv, rp):
    require(srv, "--require", "off")
    user = srv.create_user()
    browser = Browser(srv)
    assert password_only(browser, user) == "/"
    plain = id_claims(srv, rp, browser)
    assert plain["amr"] == ["pwd"] and plain["acr"] == ACR_1FA

    params = authorization_params(rp, scope="openid", acr_values=ACR_MFA)
    refused = browser.open_authorize({**params, "prompt": "none"})
    assert refused.status_code == 302 and query_params(refused.headers["Location"])["error"] == "interaction_required"

    to_enrol = browser.open_authorize(params)
    assert to_enrol.status_code == 303 and urlsplit(to_enrol.headers["Location"]).path == ENROL
    return_to = query_params(to_enrol.headers["Location"])["next"]
    assert urlsplit(return_to).path == "/oauth/authorize" and "acr_values" in return_to
    totp = enrol_here(browser, return_to, session_before=True)
    location = browser.authorize(return_to, None)
    tokens = exchange_code(srv, rp, query_params(location)["code"]).json()
    claims = jwt_parts(tokens["id_token"])[1]
    assert claims["amr"] == ["pwd", "otp", "mfa"] and claims["acr"] == ACR_MFA

    assert second_step(_password_only_session(srv, user), totp, "/").status_code == 303, "the factor is the user's now"


def _password_only_session(srv, user) -> Browser:
    """A browser stopped at the second step of ``user`` (who has a factor): the password alone is no session."""
    browser = Browser(srv)
    assert urlsplit(password_only(browser, user)).path == SECOND_STEP
    return browser


def test_acr_values_asks_the_code_of_a_user_with_a_factor_and_the_step_cannot_be_skipped(srv, rp):
    require(srv, "--require", "off")
    user = srv.create_user()
    browser = Browser(srv)
    assert password_only(browser, user) == "/"
    totp = enrol_on_profile(browser)  # the session itself stays password-only

    params = authorization_params(rp, scope="openid", acr_values=f"{ACR_1FA} {ACR_MFA}")
    sent = browser.open_authorize(params)
    assert sent.status_code == 303 and urlsplit(sent.headers["Location"]).path == SECOND_STEP
    return_to = query_params(sent.headers["Location"])["next"]
    assert browser.open_authorize(return_to).headers["Location"].startswith(SECOND_STEP), \
        "coming back without the code is sent to the code again"
    assert second_step(browser, totp, return_to).headers["Location"] == return_to
    claims = id_claims(srv, rp, browser, acr_values=ACR_MFA)
    assert claims["amr"] == ["pwd", "otp", "mfa"] and claims["acr"] == ACR_MFA


def enrol_on_profile(browser: Browser) -> pyotp.TOTP:
    """TOTP set up from the profile page of a signed-in browser (the existing enrolment)."""
    started = browser.post("/profile/factors/totp", data=csrf_of(browser.get("/profile"), "/profile/factors/totp"))
    assert started.status_code == 303
    page = browser.get("/profile/factors/totp")
    totp = pyotp.TOTP(re.search(r'id="totp-secret" type="text" value="([A-Z2-7]+)"', page.text).group(1))
    done = browser.post("/profile/factors/totp/confirm", data=csrf_of(page, "/profile/factors/totp/confirm") + [
        ("code", totp.now()), ("current_password", browser.user.password)])
    assert done.status_code == 303
    return totp


def test_max_age_re_authenticates_with_the_second_factor_and_auth_time_is_in_the_id_token_oidc_core_3_1_2_1(srv, rp):
    require(srv, "--require", "off")
    user = srv.create_user()
    browser = Browser(srv)
    password_only(browser, user)
    totp = enrol_on_profile(browser)
    first = id_claims(srv, rp, browser)["auth_time"]
    time.sleep(1.1)

    sent = browser.open_authorize(authorization_params(rp, scope="openid", max_age="0"))
    assert sent.status_code == 303 and urlsplit(sent.headers["Location"]).path == "/login"
    return_to = query_params(sent.headers["Location"])["next"]
    assert "max_age" not in return_to
    location = password_only(browser, user, return_to)
    assert urlsplit(location).path == SECOND_STEP, "re-authentication asks the second factor too"
    assert second_step(browser, totp, return_to).status_code == 303
    location = browser.authorize(return_to, None)
    claims = jwt_parts(exchange_code(srv, rp, query_params(location)["code"]).json()["id_token"])[1]
    assert claims["auth_time"] > first and time.time() - claims["auth_time"] < 30
    assert claims["amr"] == ["pwd", "otp", "mfa"]


def test_introspection_shows_amr_and_acr_of_access_and_refresh_tokens_rfc7662_2_2(srv, redirect_uri):
    require(srv, "--require", "everyone")
    client = srv.create_client(redirect_uris=[redirect_uri], grants=["authorization_code", "refresh_token"])
    user = srv.create_user()
    browser = sent_to_enrolment(srv, user)
    enrol_here(browser)
    location = browser.authorize(authorization_params(client, scope="openid offline_access"), None)
    tokens = exchange_code(srv, client, query_params(location)["code"]).json()

    for token in (tokens["access_token"], tokens["refresh_token"]):
        info = introspect(srv, client, token).json()
        assert info["active"] and info["amr"] == ["pwd", "otp", "mfa"] and info["acr"] == ACR_MFA, info
    refreshed = refresh(srv, client, tokens["refresh_token"]).json()
    assert jwt_parts(refreshed["access_token"])[1]["acr"] == ACR_MFA, "refreshed tokens keep how the user signed in"
    assert introspect(srv, client, refreshed["access_token"]).json()["amr"] == ["pwd", "otp", "mfa"]
    require(srv, "--require", "off")


def test_discovery_advertises_the_acr_values_oidc_discovery_3(srv):
    import requests

    meta = requests.get(srv.url("/.well-known/openid-configuration"), timeout=10).json()
    assert meta["acr_values_supported"] == [ACR_1FA, ACR_MFA]
    assert "acr" in meta["claims_supported"]


def test_only_administrators_see_or_change_the_policy_api_and_page(srv):
    user = srv.create_user()
    mine = api_for(srv, user.username)
    assert_forbidden(mine.get(API_PATH))
    assert_forbidden(mine.put(API_PATH, json={"require": "off"}))
    assert_forbidden(Api(srv, srv.create_pat("admin", scopes=["users:read"])["token"]).get(API_PATH), "security:read")

    browser = Browser(srv)
    require(srv, "--require", "off")
    password_only(browser, user)
    assert browser.get(PAGE).status_code == 403
    assert "sign-in-policy" not in browser.get("/").text

    admin = admin_api(srv)
    group = admin.ok("POST", "/groups", 201, json={"name": unique("g")})
    assert_invalid(admin.put(API_PATH, json={"require": "groups", "group_ids": []}), "group_ids")
    assert_invalid(admin.put(API_PATH, json={"require": "sometimes"}), "require")
    changed = admin.ok("PUT", API_PATH, json={"require": "groups", "group_ids": [group["id"]]})
    assert changed == {"require": "groups", "groups": [{"id": group["id"], "name": group["name"]}]}
    assert admin.ok("GET", API_PATH) == changed
    assert admin.ok("PUT", API_PATH, json={"require": "off"}) == {"require": "off", "groups": []}
    assert any("factor_policy.changed" in line for line in srv.db.dump_text().splitlines())


def test_the_admin_page_changes_the_policy(srv):
    boss = srv.create_user(admin=True)
    require(srv, "--require", "off")
    browser = Browser(srv)
    password_only(browser, boss)
    page = browser.get(PAGE)
    assert page.status_code == 200 and 'value="off" checked' in page.text
    assert PAGE in browser.get("/").text, "administrators have it in the navigation"
    saved = browser.post(PAGE, data=csrf_of(page, PAGE) + [("require", "administrators")])
    assert saved.status_code == 303 and saved.headers["Location"] == PAGE
    assert 'value="administrators" checked' in browser.get(PAGE).text
    refused = browser.post(PAGE, data=csrf_of(page, PAGE) + [("require", "groups")])
    assert refused.status_code == 422 and 'aria-describedby="group_ids-error"' in refused.text
    assert srv.commands.run_json("policy", "show")["require"] == "administrators"
    require(srv, "--require", "off")


def test_the_cli_shows_and_changes_the_policy(srv):
    """The CLI's contract through a real subprocess: --json, and a one-line error for a group that is no group."""
    assert srv.cli_json("policy", "second-factor", "--require", "everyone") == {"require": "everyone", "groups": []}
    shown = srv.cli("policy", "show")
    assert shown.returncode == 0 and "everyone" in shown.stdout
    missing = srv.cli("policy", "second-factor", "--group", "no-such-group-" + unique("x"))
    assert missing.returncode == 1 and "No group" in missing.stderr and len(missing.stderr.splitlines()) == 1
    assert srv.cli_json("policy", "second-factor", "--require", "off")["require"] == "off"


def test_wrong_recovery_codes_and_step_up_codes_count_towards_the_lockout(srv, rp):
    """Every factor counts: wrong codes at the second step of a step-up (``acr_values``) and recovery-code-shaped
    guesses lock the account like wrong passwords (and a right password does not reset them)."""
    require(srv, "--require", "off")
    user = srv.create_user()
    browser = Browser(srv)
    password_only(browser, user)
    totp = enrol_on_profile(browser)
    sent = browser.open_authorize(authorization_params(rp, scope="openid", acr_values=ACR_MFA))
    return_to = query_params(sent.headers["Location"])["next"]
    for guess in ("aaaa-bbbb-cccc", "dddd-eeee-ffff", "gggg-hhhh-iiii"):
        page = browser.get(SECOND_STEP + "?next=/")
        wrong = browser.post(SECOND_STEP, data=csrf_of(page, SECOND_STEP) + [("code", guess), ("next", return_to)])
        assert wrong.status_code == 400
    locked = second_step(_password_only_session(srv, user), totp, "/")
    assert locked.status_code == 429 and "Retry-After" in locked.headers


def test_two_concurrent_enrolment_completions_with_one_code_succeed_once_rfc6238_5_2(srv):
    """The first code that confirms a new authenticator app ends the pending sign-in and makes the recovery codes;
    sent twice at once (a double click, or a thief racing the user with the same code, RFC 6238 §5.2: a code is
    accepted once), exactly one request gets a session and the recovery codes, the other nothing; and the codes
    shown are the account's (a recovery code from them signs in), not a set another request replaced."""
    import threading

    require(srv, "--require", "everyone")
    user = srv.create_user()
    for _ in range(3):
        browser = sent_to_enrolment(srv, user)
        page, totp = enrolment_page(browser)
        data = csrf_of(page, ENROL) + [("code", totp.now()), ("next", "/")]
        racers = []
        for _ in range(4):
            racer = Browser(srv)
            racer.session.cookies.update(browser.session.cookies)
            racers.append(racer)
        answers: list = [None] * len(racers)
        start = threading.Barrier(len(racers))

        def post(i: int) -> None:
            start.wait()
            answers[i] = racers[i].post(ENROL, data=data)

        threads = [threading.Thread(target=post, args=(i,)) for i in range(len(racers))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        won = [i for i, r in enumerate(answers) if r.status_code == 303 and r.headers["Location"] == "/shown-once"]
        assert len(won) == 1, [(r.status_code, r.headers.get("Location")) for r in answers]
        assert all(r.status_code in (303, 422) and "authgate_session" not in r.cookies
                   for i, r in enumerate(answers) if i not in won), [r.status_code for r in answers]
        codes = shown_codes(racers[won[0]])
        again = Browser(srv)
        assert urlsplit(password_only(again, user)).path == SECOND_STEP
        step = again.get(SECOND_STEP + "?next=/")
        assert again.post(SECOND_STEP, data=csrf_of(step, SECOND_STEP) + [("code", codes[0]), ("next", "/")]
                          ).status_code == 303, "a recovery code shown to the winner signs in"
        srv.commands.run_json("users", "reset-factors", user.username)
