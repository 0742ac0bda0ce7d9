"""A passkey as the first second factor, set up on the enrolment page of a sign-in the second-factor policy covers
(``/login/enrol``), through real HTTP with the software authenticator (``support/authenticator.py``).

The registration is W3C WebAuthn Level 2 §7.1 with user verification required (§7.1 step 15, §6.2.3); its challenge
works once (§13.4.3) and only for the pending sign-in it was made for: not for another person's pending sign-in, not
for a later sign-in of the same user, not on the account page (nor the account page's challenge here). Completing it
starts the session as the authenticator app does: an ID token with ``amr`` ``pwd hwk mfa`` (RFC 8176 §2, as a
passkey at the second step) and the multi-factor ``acr`` (OpenID Connect Core §2), recovery codes shown once (the
way back when the one device is lost), ``factor.enrolled`` audited with kind ``passkey``. Without a pending sign-in
(no cookie, a made-up one, a wrong password, a session alone) nothing is registered, and junk answers get a 4xx
page, never a 500.
"""

from __future__ import annotations

import html
import re
import threading
from urllib.parse import urlencode, urlsplit

import pyotp
import pytest

from support import Browser, authorization_params, exchange_code, jwt_parts, parse_page, query_params
from support.api import admin_api
from support.authenticator import SoftAuthenticator, b64

ENROL = "/login/enrol"
OPTIONS = ENROL + "/passkey/options"
REGISTER = ENROL + "/passkey"
SECOND_STEP = "/login/second-step"
ACR_MFA = "urn:authgate:acr:mfa"
LOCKOUT = 3


@pytest.fixture(scope="module")
def srv(server_factory):
    """Issuer on ``localhost`` (an RP ID is a domain, §5.1.2); the policy is server-wide, so a server of its own.
    A small lockout to reach."""
    server = server_factory({"AUTHGATE_LIMIT_LOGIN_PER_IP": "10000/300", "AUTHGATE_LOCKOUT": f"{LOCKOUT}/900"},
                            host="localhost")
    server.commands.run_json("policy", "second-factor", "--require", "everyone")
    return server


def csrf_of(response, action: str) -> str:
    forms = [f for f in parse_page(response.text).forms if f.method == "post" and f.action == action]
    assert len(forms) == 1, f"no single form to {action}:\n{response.text[:1500]}"
    return forms[0].input("csrf_token")["value"]


def at_enrolment(srv, user, next_path: str = "/") -> tuple[Browser, str]:
    """The password of a user the policy covers, who has no factor: the enrolment page, its CSRF token."""
    browser = Browser(srv)
    location = browser.login(user, next_path).headers["Location"]
    assert urlsplit(location).path == ENROL, location
    assert "authgate_session" not in browser.session.cookies and "authgate_pending" in browser.session.cookies
    page = browser.get(ENROL + "?" + urlencode({"next": next_path}))
    assert page.status_code == 200 and "Add a passkey" in page.text and 'id="totp-secret"' in page.text
    return browser, csrf_of(page, REGISTER)


def options_for(browser: Browser, token: str) -> dict:
    answer = browser.post(OPTIONS, data={"csrf_token": token})
    assert answer.status_code == 200 and answer.headers["Cache-Control"] == "no-store", answer.text[:300]
    return answer.json()


def post_registration(browser: Browser, token: str, credential: str, name: str = "Phone", next_path: str = "/"):
    return browser.post(REGISTER, data={"csrf_token": token, "name": name, "credential": credential,
                                        "next": next_path})


def refused_page(response) -> None:
    """A 422 enrolment page that says why; still no session."""
    assert response.status_code == 422, (response.status_code, response.text[:500])
    assert 'role="alert"' in response.text or 'class="field-error"' in response.text
    assert "Add a passkey" in response.text


def shown_codes(browser: Browser) -> list[str]:
    shown = browser.get("/shown-once")
    assert shown.status_code == 200, shown.text[:500]
    assert "when your passkey is not at hand" in shown.text
    return html.unescape(re.search(r'<textarea id="secret"[^>]*>([^<]*)</textarea>', shown.text).group(1)).split()


def security_log(srv, username: str) -> list[dict]:
    return admin_api(srv).ok("GET", "/security_logs", params={"filter": username, "per_page": 100})["data"]


def test_a_passkey_set_up_at_enrolment_starts_the_session_with_pwd_hwk_mfa_and_recovery_codes_webauthn_7_1_rfc8176_2(
        srv, redirect_uri):
    user = srv.create_user()
    client = srv.create_client(redirect_uris=[redirect_uri], grants=["authorization_code"])
    browser, token = at_enrolment(srv, user, "/profile")
    options = options_for(browser, token)
    assert options["rp"]["id"] == "localhost" and options["user"]["name"] == user.username
    assert options["authenticatorSelection"]["userVerification"] == "required"
    assert options["authenticatorSelection"]["residentKey"] == "required"
    authenticator = SoftAuthenticator(srv.base_url)

    done = post_registration(browser, token, authenticator.create(options), "My phone", "/profile")
    assert done.status_code == 303 and done.headers["Location"] == "/shown-once", done.text[:500]
    assert "authgate_session" in browser.session.cookies and "authgate_pending" not in browser.session.cookies
    codes = shown_codes(browser)
    assert len(codes) == 10
    assert browser.get("/shown-once").status_code == 410, "the recovery codes are shown once"
    profile = browser.get("/profile")
    assert profile.status_code == 200 and "My phone" in profile.text
    assert browser.get(ENROL + "?next=/").status_code == 303, "the pending sign-in was spent"

    location = browser.authorize(authorization_params(client, scope="openid"), None)
    claims = jwt_parts(exchange_code(srv, client, query_params(location)["code"]).json()["id_token"])[1]
    assert claims["amr"] == ["pwd", "hwk", "mfa"] and claims["acr"] == ACR_MFA

    log = security_log(srv, user.username)
    assert [e["details"] for e in log if e["event"] == "factor.enrolled"] == [{"kind": "passkey", "name": "My phone"}]
    [succeeded] = [e for e in log if e["event"] == "login.succeeded"]
    assert succeeded["details"]["amr"] == "pwd hwk mfa"

    again = Browser(srv)
    assert urlsplit(again.login(user).headers["Location"]).path == SECOND_STEP, "now the passkey is asked"
    step_token = csrf_of(again.get(SECOND_STEP + "?next=/"), SECOND_STEP + "/passkey")
    step_options = again.post(SECOND_STEP + "/passkey/options", data={"csrf_token": step_token}).json()
    assert [c["id"] for c in step_options["allowCredentials"]] == [b64(authenticator.credential_id)]
    assert again.post(SECOND_STEP + "/passkey", data={"csrf_token": step_token, "next": "/",
                                                      "credential": authenticator.get(step_options)}
                      ).status_code == 303

    lost_device = Browser(srv)
    lost_device.login(user)
    code_token = csrf_of(lost_device.get(SECOND_STEP + "?next=/"), SECOND_STEP)
    recovered = lost_device.post(SECOND_STEP, data={"csrf_token": code_token, "next": "/", "code": codes[0]})
    assert recovered.status_code == 303 and lost_device.get("/profile").status_code == 200, \
        "a recovery code signs in without the passkey"


def test_without_a_pending_sign_in_nothing_is_registered(srv):
    """No cookie, a made-up one, a wrong password (which sets none), a session alone, a pending sign-in waiting for
    a code (the user has a factor): no options, no passkey, no session."""
    user = srv.create_user()
    stranger = Browser(srv)
    login = stranger.get("/login")
    token = csrf_of(login, "/login")
    assert stranger.post(OPTIONS, data={"csrf_token": token}).status_code == 409
    refused = post_registration(stranger, token, SoftAuthenticator(srv.base_url).create(
        {"rp": {"id": "localhost"}, "user": {"id": b64(b"x")}, "challenge": b64(b"y")}))
    assert refused.status_code == 303 and urlsplit(refused.headers["Location"]).path == "/login"

    wrong_password = stranger.post("/login", data={"csrf_token": token, "username": user.username,
                                                   "password": "not the password", "next": "/"})
    assert wrong_password.status_code == 400 and "authgate_pending" not in stranger.session.cookies
    stranger.session.cookies.set("authgate_pending", "made-up-" + "a" * 40)
    assert stranger.post(OPTIONS, data={"csrf_token": token}).status_code == 409
    assert stranger.get(ENROL + "?next=/").status_code == 303

    browser, enrol_token = at_enrolment(srv, user)
    thief = Browser(srv)
    thief.session.cookies.set("authgate_session", browser.session.cookies["authgate_pending"])
    assert thief.get("/profile").status_code == 303, "the pending cookie is no session"
    done = post_registration(browser, enrol_token, SoftAuthenticator(srv.base_url).create(
        options_for(browser, enrol_token)))
    assert done.status_code == 303 and done.headers["Location"] == "/shown-once"

    session_token = csrf_of(browser.get("/login"), "/login")
    assert browser.post(OPTIONS, data={"csrf_token": session_token}).status_code == 409, \
        "a session is no pending enrolment"

    code_step = Browser(srv)
    assert urlsplit(code_step.login(user).headers["Location"]).path == SECOND_STEP
    assert code_step.get(ENROL + "?next=/").status_code == 303
    step_token = csrf_of(code_step.get(SECOND_STEP + "?next=/"), SECOND_STEP)
    assert code_step.post(OPTIONS, data={"csrf_token": step_token}).status_code == 409, \
        "a user with a factor adds another on the account page, not here"
    assert len([e for e in security_log(srv, user.username) if e["event"] == "factor.enrolled"]) == 1


def test_a_challenge_serves_only_its_own_pending_sign_in_webauthn_13_4_3(srv):
    """Another person's pending sign-in, a later sign-in of the same user (the earlier pending one ends with it), the
    account page (and the account page's challenge here), a replay after success: all refused."""
    alice, bob, carol = srv.create_user(), srv.create_user(), srv.create_user()
    alice_browser, alice_token = at_enrolment(srv, alice)
    bob_browser, bob_token = at_enrolment(srv, bob)
    alices_options = options_for(alice_browser, alice_token)
    mallory = SoftAuthenticator(srv.base_url)
    refused_page(post_registration(bob_browser, bob_token, mallory.create(alices_options)))
    assert "authgate_session" not in bob_browser.session.cookies

    stale_browser, stale_token = at_enrolment(srv, carol)
    stale_options = options_for(stale_browser, stale_token)
    carol_browser, carol_token = at_enrolment(srv, carol)
    refused_page(post_registration(carol_browser, carol_token, mallory.create(stale_options)))
    assert stale_browser.get(ENROL + "?next=/").status_code == 303, "the earlier pending sign-in ended"

    signed_in = Browser(srv)
    srv.commands.run_json("policy", "second-factor", "--require", "off")
    try:
        other = srv.create_user()
        signed_in.login(other)
        profile_token = csrf_of(signed_in.get("/profile"), "/profile/passkeys")
        profile_options = signed_in.post("/profile/passkeys/options", data={"csrf_token": profile_token}).json()
    finally:
        srv.commands.run_json("policy", "second-factor", "--require", "everyone")
    refused_page(post_registration(bob_browser, bob_token, mallory.create(profile_options)))
    bobs_options = options_for(bob_browser, bob_token)
    on_profile = signed_in.post("/profile/passkeys", data={"csrf_token": profile_token, "name": "Bob's challenge",
                                                           "current_password": other.password,
                                                           "credential": mallory.create(bobs_options)})
    assert on_profile.status_code == 303 and "Bob&#39;s challenge" not in signed_in.get("/profile").text

    alices_key = SoftAuthenticator(srv.base_url)
    registration = alices_key.create(options_for(alice_browser, alice_token))
    assert post_registration(alice_browser, alice_token, registration).status_code == 303
    replayed = post_registration(carol_browser, carol_token, registration)
    refused_page(replayed)
    assert "already registered" not in replayed.text, "the spent challenge is refused before anything else"
    assert "authgate_session" not in carol_browser.session.cookies
    again = post_registration(alice_browser, alice_token, registration)
    assert again.status_code == 303 and urlsplit(again.headers["Location"]).path == "/login", "no pending any more"
    enrolled = [e for e in security_log(srv, alice.username) + security_log(srv, bob.username)
                + security_log(srv, carol.username) if e["event"] == "factor.enrolled"]
    assert [e["subject"] for e in enrolled] == [alice.username]


def test_no_user_verification_and_junk_answers_get_a_4xx_page_and_the_enrolment_goes_on_webauthn_7_1_15(srv):
    user = srv.create_user()
    browser, token = at_enrolment(srv, user)
    authenticator = SoftAuthenticator(srv.base_url)
    unverified = post_registration(browser, token, authenticator.create(options_for(browser, token), verified=False))
    refused_page(unverified)
    assert "verif" in unverified.text.lower(), unverified.text[:2000]

    elsewhere = authenticator.create(options_for(browser, token), origin="http://localhost.evil.example")
    refused_page(post_registration(browser, token, elsewhere))

    for junk in ("", "{}", "not json", '{"id": 1}', "[" * 5000, '{"response": null}', "{" + "x" * 60_000,
                 '{"id": "a", "rawId": "a", "type": "public-key", "response": {"clientDataJSON": "!!",'
                 ' "attestationObject": "!!"}}'):
        refused_page(post_registration(browser, token, junk))
    oversized = post_registration(browser, token, "x" * 70_000)
    assert oversized.status_code == 400 and "larger than" in oversized.text, "a body over the form limit: a 4xx page"
    unnamed = post_registration(browser, token, authenticator.create(options_for(browser, token)), name="  ")
    refused_page(unnamed)
    assert 'aria-describedby="name-error"' in unnamed.text
    assert "authgate_session" not in browser.session.cookies
    assert not [e for e in security_log(srv, user.username) if e["event"] == "factor.enrolled"]

    done = post_registration(browser, token, authenticator.create(options_for(browser, token)))
    assert done.status_code == 303 and done.headers["Location"] == "/shown-once", "the pending sign-in still works"


def test_a_locked_account_registers_no_passkey_at_enrolment(srv):
    """Wrong passwords elsewhere lock the account while its pending enrolment waits: the registration is refused
    (429, Retry-After) and nothing is kept."""
    user = srv.create_user()
    browser, token = at_enrolment(srv, user)
    options = options_for(browser, token)
    guesser = Browser(srv)
    login_token = csrf_of(guesser.get("/login"), "/login")
    for _ in range(LOCKOUT):
        guesser.post("/login", data={"csrf_token": login_token, "username": user.username, "password": "wrong",
                                     "next": "/"})
    locked = post_registration(browser, token, SoftAuthenticator(srv.base_url).create(options))
    assert locked.status_code == 429 and "Retry-After" in locked.headers, locked.text[:500]
    assert "authgate_session" not in browser.session.cookies
    assert not [e for e in security_log(srv, user.username) if e["event"] == "factor.enrolled"]


def test_a_passkey_racing_the_first_totp_code_is_not_kept_when_the_code_wins_webauthn_7_1(srv):
    """The enrolment page offers both an authenticator app and a passkey; sent at once (two tabs, or someone who
    has the password and the pending cookie racing the user), exactly one completes the pending sign-in, and the
    account then holds that factor only: a passkey registered by the request that lost is not left behind to sign
    in alone later (the pending sign-in ends before the passkey is stored, as before the TOTP factor is confirmed).
    On PostgreSQL the two run at once; SQLite takes one write at a time, so there this is a guard."""
    admin = admin_api(srv)
    for _ in range(6):
        user = srv.create_user()
        browser, token = at_enrolment(srv, user)
        page = browser.get(ENROL + "?next=/")
        totp = pyotp.TOTP(re.search(r'id="totp-secret" type="text" value="([A-Z2-7]+)"', page.text).group(1))
        code_form = {"csrf_token": csrf_of(page, ENROL), "code": totp.now(), "next": "/"}
        credential = SoftAuthenticator(srv.base_url).create(options_for(browser, token))
        racers = [Browser(srv), Browser(srv)]
        for racer in racers:
            racer.session.cookies.update(browser.session.cookies)
        sends = [lambda: racers[0].post(ENROL, data=code_form),
                 lambda: post_registration(racers[1], token, credential)]
        answers: list = [None, None]
        start = threading.Barrier(2)

        def send(i: int) -> None:
            start.wait()
            answers[i] = sends[i]()

        threads = [threading.Thread(target=send, args=(i,)) for i in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        won = [i for i, r in enumerate(answers) if r.status_code == 303 and r.headers["Location"] == "/shown-once"]
        assert len(won) == 1, [(r.status_code, r.headers.get("Location")) for r in answers]
        kinds = {f["kind"] for f in admin.ok("GET", f"/users/{user.id}/factors")["data"]} - {"recovery"}
        assert kinds == ({"totp"} if won == [0] else {"passkey"}), (won, kinds)
        enrolled = [e["details"]["kind"] for e in security_log(srv, user.username) if e["event"] == "factor.enrolled"]
        assert enrolled == (["totp"] if won == [0] else ["passkey"]), enrolled
