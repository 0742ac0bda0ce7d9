"""A second factor, TOTP (RFC 6238), with recovery codes, through real HTTP: enrolment on the profile page (the QR
code and the secret, confirmed by a first code), then sign-in asks for a code after the password. The codes are
computed here from the enrolled secret with pyotp, as an authenticator app would.

Thought of as an attacker: the password alone opens nothing (the pending step is no session), a wrong code and a
code used once are refused, guessing codes locks the account and a right password does not reset that count,
a recovery code works once, the password grant refuses the account (RFC 6749 §5.2 ``invalid_grant``), and the
secret is not in the database in clear when ``AUTHGATE_SECRET_KEY`` is set. ID tokens say how the user signed in
(RFC 8176 §2 ``amr``: ``pwd``; ``pwd otp mfa`` after the second step; OpenID Connect Core §2).
"""

from __future__ import annotations

import html
import re
import time
from urllib.parse import urlsplit

import pyotp
import pytest

from support import (Browser, User, admin_api, assert_token_error, authorization_params, exchange_code, jwt_parts,
                     parse_page, password_grant, query_params, unique)

SECRET_KEY = "second-factor-tests-" + "k" * 24
LOCKOUT = 3
SECOND_STEP = "/login/second-step"


@pytest.fixture(scope="module")
def factor_server(server_factory):
    """Secrets sealed at rest; a small lockout to reach; per-address limits out of the way (one test address)."""
    return server_factory({"AUTHGATE_SECRET_KEY": SECRET_KEY, "AUTHGATE_LOCKOUT": f"{LOCKOUT}/900",
                           "AUTHGATE_LIMIT_LOGIN_PER_IP": "10000/300"})


def form_to(response, action: str) -> list[tuple[str, str]]:
    forms = [f for f in parse_page(response.text).forms if f.method == "post" and f.action == action]
    assert len(forms) == 1, f"no single form to {action}:\n{response.text[:1500]}"
    return [("csrf_token", forms[0].input("csrf_token")["value"])]


def post_from(browser: Browser, page_url: str, action: str, **fields) -> object:
    return browser.post(action, data=form_to(browser.get(page_url), action) + list(fields.items()))


def shown_codes(browser: Browser) -> list[str]:
    shown = browser.get("/shown-once")
    assert shown.status_code == 200, shown.text[:500]
    return html.unescape(re.search(r'<textarea id="secret"[^>]*>([^<]*)</textarea>', shown.text).group(1)).split()


def enrol(browser: Browser) -> tuple[pyotp.TOTP, list[str]]:
    """Set up TOTP from the profile page; returns the app's view of the secret and the recovery codes shown."""
    started = post_from(browser, "/profile", "/profile/factors/totp")
    assert started.status_code == 303 and started.headers["Location"] == "/profile/factors/totp"
    page = browser.get("/profile/factors/totp")
    assert page.status_code == 200
    assert "<svg" in page.text and not re.search(r"<script(?![^>]*\ssrc=)", page.text), "no inline script (CSP)"
    assert "default-src 'self'" in page.headers["Content-Security-Policy"]
    secret = re.search(r'id="totp-secret" type="text" value="([A-Z2-7]+)"', page.text).group(1)
    totp = pyotp.TOTP(secret)
    wrong = browser.post("/profile/factors/totp/confirm", data=form_to(page, "/profile/factors/totp/confirm") + [
        ("code", not_the_code(totp)), ("current_password", browser.user.password)])
    assert wrong.status_code == 422 and 'aria-describedby="code-error"' in wrong.text
    confirmed = browser.post("/profile/factors/totp/confirm", data=form_to(page, "/profile/factors/totp/confirm") + [
        ("code", totp.now()), ("current_password", browser.user.password)])
    assert confirmed.status_code == 303 and confirmed.headers["Location"] == "/shown-once", confirmed.text[:500]
    codes = shown_codes(browser)
    assert len(codes) == 10 and len(set(codes)) == 10
    assert browser.get("/shown-once").status_code == 410, "recovery codes are shown once"
    return totp, codes


def not_the_code(totp: pyotp.TOTP) -> str:
    """A code no step near now has (the current one, or either side)."""
    near = {totp.at(time.time() + drift) for drift in (-30, 0, 30, 60)}
    return next(code for code in ("000000", "111111", "222222", "333333", "444444") if code not in near)


def next_code(totp: pyotp.TOTP) -> str:
    """The code of the next 30-second step: accepted (one step of drift, RFC 6238 §5.2) and later than the step
    the enrolment used, so a fresh code without waiting."""
    return totp.at(time.time() + 30)


def password_step(server, user: User, next_path: str = "/") -> Browser:
    """The password, for an account with a second factor: a pending step, and no session."""
    browser = Browser(server)
    answered = browser.login(user, next_path)
    location = answered.headers["Location"]
    assert urlsplit(location).path == SECOND_STEP, location
    assert query_params(location)["next"] == next_path
    assert "authgate_session" not in browser.session.cookies
    assert "authgate_pending" in browser.session.cookies
    return browser


def second_step(browser: Browser, code: str):
    page = browser.get(SECOND_STEP + "?next=/")
    assert page.status_code == 200, page.status_code
    return browser.post(SECOND_STEP, data=form_to(page, SECOND_STEP) + [("code", code), ("next", "/")])


def signed_in(server, user: User) -> Browser:
    browser = Browser(server)
    browser.login(user)
    return browser


def test_a_session_alone_cannot_turn_on_an_authenticator_app(factor_server):
    """Whoever turns the factor on holds the app's secret and the recovery codes: someone holding the user's session
    for a while (a stolen cookie, a borrowed laptop) could keep the owner out of their own account. So turning it on
    takes the current password, as removing it does (the check a password change makes, lockout included)."""
    user = factor_server.create_user()
    browser = Browser(factor_server)
    browser.login(user)
    assert post_from(browser, "/profile", "/profile/factors/totp").status_code == 303
    page = browser.get("/profile/factors/totp")
    totp = pyotp.TOTP(re.search(r'id="totp-secret" type="text" value="([A-Z2-7]+)"', page.text).group(1))
    assert 'name="current_password"' in page.text
    for password in ([], [("current_password", "not " + user.password)]):
        refused = browser.post("/profile/factors/totp/confirm",
                               data=form_to(page, "/profile/factors/totp/confirm") + [("code", totp.now())] + password)
        assert refused.status_code == 422 and 'aria-describedby="current_password-error"' in refused.text
    assert "10 recovery codes left" not in browser.get("/profile").text
    enrol(browser)


def test_sign_in_asks_for_the_code_after_the_password_and_the_pending_step_opens_nothing_rfc6238(factor_server):
    user = factor_server.create_user()
    totp, _ = enrol(signed_in(factor_server, user))

    browser = password_step(factor_server, user)
    assert browser.get("/profile").status_code == 303  # the pending step is no session
    stolen = Browser(factor_server)
    stolen.session.cookies.set("authgate_session", browser.session.cookies["authgate_pending"])
    assert stolen.get("/profile").status_code == 303

    wrong = second_step(browser, not_the_code(totp))
    assert wrong.status_code == 400 and "wrong or was already used" in wrong.text
    code = next_code(totp)
    done = second_step(browser, code)
    assert done.status_code == 303 and done.headers["Location"] == "/"
    assert "authgate_session" in browser.session.cookies
    assert browser.get("/profile").status_code == 200
    spent = browser.get(SECOND_STEP + "?next=/")
    assert spent.status_code == 303 and urlsplit(spent.headers["Location"]).path == "/login"

    again = password_step(factor_server, user)
    reused = second_step(again, code)
    assert reused.status_code == 400, "a code accepted once must be refused the second time (RFC 6238 §5.2)"
    assert again.get("/profile").status_code == 303


def test_guessing_codes_locks_the_account_and_a_right_password_does_not_reset_the_count(factor_server):
    user = factor_server.create_user()
    totp, _ = enrol(signed_in(factor_server, user))
    wrong = not_the_code(totp)
    for _ in range(LOCKOUT - 1):
        assert second_step(password_step(factor_server, user), wrong).status_code == 400
    browser = password_step(factor_server, user)  # a right password again: the guesses still count
    assert second_step(browser, wrong).status_code == 400
    locked = second_step(browser, next_code(totp))
    assert locked.status_code == 429 and "Retry-After" in locked.headers
    assert "authgate_session" not in browser.session.cookies


def test_a_recovery_code_signs_in_once_and_a_new_set_replaces_the_old(factor_server):
    user = factor_server.create_user()
    own = signed_in(factor_server, user)
    _, codes = enrol(own)

    browser = password_step(factor_server, user)
    assert second_step(browser, codes[0].upper()).status_code == 303
    assert browser.get("/profile").status_code == 200
    assert "<strong>9</strong> recovery codes left" in browser.get("/profile").text
    assert second_step(password_step(factor_server, user), codes[0]).status_code == 400

    refused = post_from(own, "/profile/factors/recovery-codes", "/profile/factors/recovery-codes",
                        current_password="not-" + user.password)
    assert refused.status_code == 422 and 'aria-describedby="current_password-error"' in refused.text
    made = post_from(own, "/profile/factors/recovery-codes", "/profile/factors/recovery-codes",
                     current_password=user.password)
    assert made.status_code == 303 and made.headers["Location"] == "/shown-once"
    fresh = shown_codes(own)
    assert len(fresh) == 10 and not set(fresh) & set(codes)
    assert second_step(password_step(factor_server, user), codes[1]).status_code == 400
    assert second_step(password_step(factor_server, user), fresh[0]).status_code == 303


def test_the_password_grant_refuses_an_account_with_a_second_factor_rfc6749_5_2(factor_server):
    user = factor_server.create_user()
    client = factor_server.create_client(grants=["password"])
    assert password_grant(factor_server, client, user).status_code == 200
    enrol(signed_in(factor_server, user))
    body = assert_token_error(password_grant(factor_server, client, user), "invalid_grant")
    assert "second factor" in body["error_description"] and "password alone" in body["error_description"]


def id_token_amr(server, browser: Browser, client) -> list[str]:
    params = authorization_params(client, scope="openid")
    code = query_params(browser.authorize(params, None))["code"]
    tokens = exchange_code(server, client, code)
    assert tokens.status_code == 200, tokens.text
    return jwt_parts(tokens.json()["id_token"])[1].get("amr")


def test_the_id_token_says_how_the_user_signed_in_rfc8176_2(factor_server, redirect_uri):
    user = factor_server.create_user()
    client = factor_server.create_client(redirect_uris=[redirect_uri], grants=["authorization_code"])
    own = signed_in(factor_server, user)
    assert id_token_amr(factor_server, own, client) == ["pwd"]
    totp, _ = enrol(own)

    browser = password_step(factor_server, user)
    assert second_step(browser, next_code(totp)).status_code == 303
    assert id_token_amr(factor_server, browser, client) == ["pwd", "otp", "mfa"]


def test_removing_the_factor_needs_the_password_and_then_the_password_alone_signs_in(factor_server):
    user = factor_server.create_user()
    own = signed_in(factor_server, user)
    enrol(own)
    refused = post_from(own, "/profile/factors/totp/remove", "/profile/factors/totp/remove",
                        current_password="not-" + user.password)
    assert refused.status_code == 422
    password_step(factor_server, user)
    removed = post_from(own, "/profile/factors/totp/remove", "/profile/factors/totp/remove",
                        current_password=user.password)
    assert removed.status_code == 303 and removed.headers["Location"] == "/profile"
    assert Browser(factor_server).login(user).headers["Location"] == "/"


def test_the_secret_is_sealed_at_rest_and_every_step_is_in_the_audit_log(factor_server):
    user = factor_server.create_user()
    own = signed_in(factor_server, user)
    totp, codes = enrol(own)
    assert second_step(password_step(factor_server, user), not_the_code(totp)).status_code == 400
    assert second_step(password_step(factor_server, user), codes[0]).status_code == 303
    post_from(own, "/profile/factors/recovery-codes", "/profile/factors/recovery-codes", current_password=user.password)
    post_from(own, "/profile/factors/totp/remove", "/profile/factors/totp/remove", current_password=user.password)

    dump = factor_server.db.dump_text()
    assert totp.secret not in dump and not any(code in dump or code.replace("-", "") in dump for code in codes)
    log = [line for line in dump.splitlines() if user.username in line]
    for event in ("factor.enrolled", "login.second_factor_required", "login.second_step_failed",
                  "factor.recovery_code_used", "factor.recovery_codes_regenerated", "factor.removed"):
        assert any(event in line for line in log), event


def test_keys_encrypt_seals_secrets_enrolled_before_a_secret_key_was_set(server_factory):
    srv = server_factory({"AUTHGATE_LIMIT_LOGIN_PER_IP": "10000/300"})
    user = srv.create_user()
    totp, _ = enrol(signed_in(srv, user))
    assert totp.secret in srv.db.dump_text()

    srv.stop(drop_database=False)
    srv.env["AUTHGATE_SECRET_KEY"] = SECRET_KEY
    srv.start()
    assert srv.cli_json("keys", "encrypt")["second_factors"] == 1
    assert totp.secret not in srv.db.dump_text()
    assert srv.cli_json("keys", "encrypt")["second_factors"] == 0
    assert second_step(password_step(srv, user), next_code(totp)).status_code == 303


@pytest.mark.parametrize("change", ["password", "deactivated_and_back"])
def test_a_password_change_ends_the_sign_ins_waiting_for_their_second_step(factor_server, change):
    """A pending sign-in stands for a password proved a moment ago (RFC 6238 is the second step only): once the
    password is reset (someone knew the old one) or the account deactivated, the waiting step must not finish
    with a right code, even after the account is active again; a new sign-in with the new password does."""
    user = factor_server.create_user()
    _, codes = enrol(signed_in(factor_server, user))
    waiting = password_step(factor_server, user)
    admin = admin_api(factor_server)
    if change == "password":
        user = User(user.username, "a new password " + unique("pw"), user.email, user.id)
        admin.ok("PUT", f"/users/{user.id}", json={"password": user.password})
    else:
        admin.ok("PUT", f"/users/{user.id}", json={"status": "INACTIVE"})
        admin.ok("PUT", f"/users/{user.id}", json={"status": "ACTIVE"})
    page = waiting.get(SECOND_STEP + "?next=/")
    if page.status_code == 200:
        waiting.post(SECOND_STEP, data=form_to(page, SECOND_STEP) + [("code", codes[0]), ("next", "/")])
    assert waiting.get("/profile").status_code != 200, "the pending step of before the change signed in"
    assert second_step(password_step(factor_server, user), codes[1]).status_code == 303
