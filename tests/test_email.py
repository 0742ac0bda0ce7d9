"""Email (issue 15, item 5) through a real SMTP server on loopback (aiosmtpd): the forgotten-password link,
address verification (OpenID Connect Core 1.0 §5.1 ``email_verified``, in UserInfo §5.3 and the ID token
§2), invitations, and the links the CLI prints when no SMTP server is set.

The reset link (OWASP Forgot Password Cheat Sheet) is single use and short lived, answers the same whether or
not the account exists, and a reset ends the account's other sessions and refresh tokens (RFC 6749 §6: the old
refresh token gets ``invalid_grant``) as any password change does.
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
from urllib.parse import urlsplit

import pytest
import requests

from support import (Browser, admin_api, free_port, User, assert_token_error, authorization_params, exchange_code, jwt_parts,
                     parse_page, password_grant, query_params, refresh, unique)
from support.mailbox import Mailbox, link_in, parts
from support.values import eventually


RESET, VERIFY = "Reset your password", "Confirm your email address"


@pytest.fixture(scope="module")
def mailbox():
    box = Mailbox().start()
    yield box
    box.stop()


@pytest.fixture(scope="module")
def mail_server(server_factory, mailbox):
    return server_factory({"AUTHGATE_SMTP_URL": mailbox.url, "AUTHGATE_MAIL_FROM": "authgate@example.org",
                           "AUTHGATE_ACCESS_LOG": "1"})


@pytest.fixture(scope="module")
def short_links(server_factory, mailbox):
    """Links that live two seconds, and a small per-address limit on asking for them."""
    return server_factory({"AUTHGATE_SMTP_URL": mailbox.url, "AUTHGATE_RESET_LINK_SECONDS": "2",
                           "AUTHGATE_VERIFY_LINK_SECONDS": "2", "AUTHGATE_LIMIT_FORGOT_PER_IP": "4/300"})


@pytest.fixture(scope="module")
def mail_admin(mail_server):
    return admin_api(mail_server)


@pytest.fixture(scope="module")
def password_client(mail_server):
    return mail_server.create_client(grants=["password", "refresh_token"])


@pytest.fixture(scope="module")
def rp(mail_server):
    return mail_server.create_client(redirect_uris=[f"https://{unique('rp')}.example.org/cb"],
                                     grants=["authorization_code"])


def form_on(browser: Browser, response: requests.Response, action: str) -> dict:
    forms = [f for f in parse_page(response.text).forms if f.action == action]
    assert len(forms) == 1, f"no form to {action}:\n{response.text[:1500]}"
    return forms[0].fields()


def ask_for_reset(server, login: str) -> requests.Response:
    browser = Browser(server)
    page = browser.get("/password/forgot")
    assert page.status_code == 200
    return browser.post("/password/forgot", data={**form_on(browser, page, "/password/forgot"), "login": login})


def message_of(response: requests.Response) -> str:
    return parse_page(response.text).text


def choose_password(server, link: str, password: str, again: str | None = None) -> requests.Response:
    browser = Browser(server)
    page = browser.get(link)
    assert page.status_code == 200, page.text[:500]
    action = urlsplit(link).path
    fields = form_on(browser, page, action)
    return browser.post(action, data={**fields, "password": password,
                                      "password_confirmation": password if again is None else again})


def signed_in(server, user: User) -> Browser:
    browser = Browser(server)
    browser.login(user)
    return browser


def still_signed_in(browser: Browser) -> bool:
    return browser.get("/profile").status_code == 200


def test_the_sign_in_page_links_to_forgot_password(mail_server):
    page = Browser(mail_server).get("/login")
    assert 'href="/password/forgot"' in page.text


def test_reset_link_arrives_works_once_and_ends_other_sign_ins(mail_server, mailbox, password_client, mail_admin):
    user = mail_server.create_user()
    tokens = password_grant(mail_server, password_client, user).json()
    other_browser = signed_in(mail_server, user)

    answer = ask_for_reset(mail_server, user.username)
    assert answer.status_code == 200 and "Check your email" in message_of(answer)
    letter, = mailbox.wait_for(user.email, RESET)
    assert letter["From"] == "authgate@example.org"
    plain, html = parts(letter)
    link = link_in(letter)
    assert link.startswith(mail_server.base_url + "/password/reset?token=") and "<a href=" in html
    assert user.username in plain

    assert choose_password(mail_server, link, "new password 1", "not the same").status_code == 422
    assert choose_password(mail_server, link, "short").status_code == 422  # the password policy
    new = "a brand new password " + unique("pw")
    done = choose_password(mail_server, link, new)
    assert done.status_code == 200 and "Your password is set" in message_of(done)

    assert password_grant(mail_server, password_client, user).status_code == 400  # the old password
    assert password_grant(mail_server, password_client, User(user.username, new, user.email, user.id)).status_code == 200
    assert_token_error(refresh(mail_server, password_client, tokens["refresh_token"]), "invalid_grant")
    assert not still_signed_in(other_browser)

    again = Browser(mail_server).get(link)
    assert again.status_code == 400 and "no longer valid" in message_of(again)
    token = query_params(link)["token"]
    assert token not in mail_server.stderr_text() + mail_server.stdout_text()  # the access log has no query strings
    logged = mail_admin.ok("GET", "/security_logs", 200, params={"filter": user.username, "per_page": 100})["data"]
    mine = {e["event"]: e for e in logged}
    assert mine["user.reset_link_sent"]["ip"] == "127.0.0.1"
    assert mine["user.password_changed"]["details"]["via"] == "reset_link"
    assert token not in str(logged)


def test_unknown_or_inactive_accounts_get_the_same_answer_and_no_mail(mail_server, mailbox, mail_admin):
    known = mail_server.create_user()
    inactive = mail_server.create_user()
    mail_admin.ok("PUT", f"/users/{inactive.id}", 200, json={"status": "INACTIVE"})
    nobody = f"{unique('nobody')}@example.org"
    answers = [ask_for_reset(mail_server, login) for login in (nobody, inactive.username, known.email)]
    assert {a.status_code for a in answers} == {200}
    assert len({message_of(a) for a in answers}) == 1
    mailbox.wait_for(known.email, RESET)  # asked for last: one thread sends the letters in order
    time.sleep(0.5)
    assert mailbox.to(nobody) == [] and mailbox.to(inactive.email, RESET) == []


def test_a_reset_link_expires(short_links, mailbox):
    user = short_links.create_user()
    ask_for_reset(short_links, user.username)
    link = link_in(mailbox.wait_for(user.email, RESET)[0])
    time.sleep(2.5)
    page = Browser(short_links).get(link)
    assert page.status_code == 400 and "expired" in message_of(page)


def test_forgot_password_requests_are_limited_per_address(short_links):
    answers = [ask_for_reset(short_links, unique("nobody")).status_code for _ in range(6)]
    assert 429 in answers and set(answers[:answers.index(429)]) == {200}


def id_token_and_userinfo(server, rp, user, browser) -> tuple[dict, dict]:
    location = browser.authorize(authorization_params(rp, scope="openid email"), user)
    answer = exchange_code(server, rp, query_params(location)["code"]).json()
    info = requests.get(server.url("/oauth/userinfo"), timeout=10,
                        headers={"Authorization": f"Bearer {answer['access_token']}"}).json()
    return jwt_parts(answer["id_token"])[1], info


def verify(server, link: str) -> requests.Response:
    browser = Browser(server)
    page = browser.get(link)
    assert page.status_code == 200, page.text[:500]
    return browser.post("/email/verify", data=form_on(browser, page, "/email/verify"))


def test_verification_makes_email_verified_true_and_a_new_address_resets_it_oidc_core_5_1(
        mail_server, mailbox, rp):
    user = mail_server.create_user()
    browser = signed_in(mail_server, user)
    claims, info = id_token_and_userinfo(mail_server, rp, user, browser)
    assert claims["email"] == info["email"] == user.email
    assert claims["email_verified"] is False and info["email_verified"] is False
    admin = Browser(mail_server)
    admin.login(User("admin", mail_server.admin_password, "", 0))
    assert email_state_listed(admin, user) == "not verified"

    link = link_in(mailbox.wait_for(user.email, VERIFY)[0])
    assert Browser(mail_server).get(link).status_code == 200  # opening it verifies nothing: a button does
    done = verify(mail_server, link)
    assert done.status_code == 200 and "verified" in message_of(done)
    claims, info = id_token_and_userinfo(mail_server, rp, user, browser)
    assert claims["email_verified"] is True and info["email_verified"] is True
    assert email_state_listed(admin, user) == "", "the Users list marks only unverified addresses"
    assert Browser(mail_server).get(link).status_code == 400  # used

    new_email = f"{unique('moved')}@example.org"
    profile = browser.get("/profile")
    fields = form_on(browser, profile, "/profile/details")
    refused = browser.post("/profile/details", data={**fields, "email": new_email})
    assert refused.status_code == 303
    assert "current password" in message_of(browser.get("/profile"))
    saved = browser.post("/profile/details", data={**fields, "email": new_email, "firstname": "Ada",
                                                   "current_password": user.password})
    assert saved.status_code == 303
    moved = User(user.username, user.password, new_email, user.id)
    claims, info = id_token_and_userinfo(mail_server, rp, moved, browser)
    assert claims["email"] == new_email and claims["email_verified"] is False and info["email_verified"] is False
    assert info.get("given_name") is None  # the profile scope was not asked for
    verify(mail_server, link_in(mailbox.wait_for(new_email, VERIFY)[0]))
    claims, _ = id_token_and_userinfo(mail_server, rp, moved, browser)
    assert claims["email_verified"] is True


def email_state_listed(admin: Browser, user: User) -> str:
    """The mark beside ``user``'s address on the administrator's Users list ("" for none)."""
    cell = re.search(r"<td>" + re.escape(user.email) + r"(.*?)</td>",
                     admin.get("/admin/users", params={"q": user.username}).text, re.S)
    return re.sub(r"<[^>]+>", "", cell[1]).strip()


def test_an_invitation_sets_a_password_and_verifies_the_address(mail_server, mailbox, mail_admin):
    username = unique("invitee")
    email = f"{username}@example.org"
    made = mail_server.commands.run_json("users", "invite", username, "--email", email)
    assert made["mailed"] is True and "link" not in made
    letter = mailbox.wait_for(email)[0]
    assert letter["Subject"] == f"You are invited to {mail_server.base_url}"
    assert mailbox.to(email, VERIFY) == []
    api = mail_admin
    shown = api.ok("GET", f"/users/{made_id(api, username)}", 200)
    assert shown["email_verified_at"] is None

    password = "my own password " + unique("pw")
    invitee = User(username, password, email, shown["id"])
    browser = Browser(mail_server)
    page, form = browser.login_page()
    assert browser.submit_login(page, form, username, "!invited").status_code == 400
    link = link_in(letter)
    done = choose_password(mail_server, link, password)
    assert done.status_code == 200
    signed_in(mail_server, invitee)
    assert api.ok("GET", f"/users/{invitee.id}", 200)["email_verified_at"] is not None
    assert Browser(mail_server).get(link).status_code == 400


def made_id(api, username: str) -> int:
    found = api.ok("GET", "/users", 200, params={"filter": username})["data"]
    return next(u["id"] for u in found if u["username"] == username)


def test_an_administrator_invites_from_the_users_page(mail_server, mailbox):
    admin = Browser(mail_server)
    admin.login(User("admin", mail_server.admin_password, "", 0))
    page = admin.get("/admin/users/new")
    username = unique("paged")
    email = f"{username}@example.org"
    made = admin.post("/admin/users/new", data={**form_on(admin, page, "/admin/users/new"), "username": username,
                                                "email": email, "invite": "on", "password": ""})
    assert made.status_code == 303, made.text[:500]
    user_page = admin.get(made.headers["Location"])
    assert "has not chosen a password yet" in message_of(user_page)
    again = admin.post(urlsplit(made.headers["Location"]).path + "/invite",
                       data=form_on(admin, user_page, urlsplit(made.headers["Location"]).path + "/invite"))
    assert again.status_code == 303
    first, second = mailbox.wait_for(email, count=2)
    assert Browser(mail_server).get(link_in(first)).status_code == 400  # replaced by the second invitation
    assert choose_password(mail_server, link_in(second), "chosen " + unique("pw")).status_code == 200


def test_without_smtp_the_pages_say_so_and_the_cli_prints_the_links(server):
    page = Browser(server).get("/password/forgot")
    assert "Email is not set up on this server; ask an administrator" in message_of(page)
    assert [f for f in parse_page(page.text).forms if f.action == "/password/forgot"] == []

    user = server.create_user()
    printed = server.cli_json("users", "reset-link", user.username)
    assert printed["mailed"] is False and printed["link"].startswith(server.base_url + "/password/reset?token=")
    new = "reset from the cli " + unique("pw")
    assert choose_password(server, printed["link"], new).status_code == 200
    signed_in(server, User(user.username, new, user.email, user.id))

    username = unique("cli-invitee")
    plain = server.cli("users", "invite", username, "--email", f"{username}@example.org")
    assert plain.returncode == 0, plain.stderr
    link = plain.stdout.strip().splitlines()[-1]
    assert link.startswith(server.base_url + "/invitation?token=")
    assert choose_password(server, link, "invited via cli " + unique("pw")).status_code == 200
    refused = server.cli("users", "invite", username)
    assert refused.returncode == 1 and "has a password already" in refused.stderr

    verification = server.cli_json("users", "verify-link", user.username)
    assert verification["mailed"] is False and "/email/verify?token=" in verification["link"]


def test_an_account_gets_few_letters_however_often_it_is_asked_for(mail_server, mailbox):
    """AUTHGATE_LIMIT_FORGOT_PER_ACCOUNT (3 per 15 minutes): more requests get the same page, and no letter."""
    user, barrier = mail_server.create_user(), mail_server.create_user()
    answers = {message_of(ask_for_reset(mail_server, user.username)) for _ in range(5)}
    assert len(answers) == 1
    ask_for_reset(mail_server, barrier.username)
    mailbox.wait_for(barrier.email, RESET)
    assert len(mailbox.to(user.email, RESET)) == 3


def test_expired_and_used_links_are_purged(short_links):
    user = short_links.create_user()
    old = short_links.cli_json("users", "reset-link", user.username, "--print")["link"]
    time.sleep(2.5)
    invitee = unique("invitee")  # an invitation lives 7 days here too
    fresh = short_links.cli_json("users", "invite", invitee, "--email", f"{invitee}@example.org", "--print")["link"]
    assert short_links.cli_json("tokens", "purge")["deleted"]["account_links"] >= 1
    assert Browser(short_links).get(old).status_code == 400
    assert Browser(short_links).get(fresh).status_code == 200


@pytest.fixture(scope="module")
def dead_smtp(server_factory):
    """An SMTP URL where nothing listens."""
    return server_factory({"AUTHGATE_SMTP_URL": f"smtp://127.0.0.1:{free_port()}?timeout=2"})


def test_a_mail_server_that_fails_is_logged_without_the_link_and_the_person_gets_their_page(dead_smtp):
    user = dead_smtp.create_user()
    answer = ask_for_reset(dead_smtp, user.username)
    assert answer.status_code == 200 and "Check your email" in message_of(answer)
    logged = eventually(dead_smtp.stderr_text, lambda text: f"password_reset mail for user {user.id} not sent" in text,
                        timeout=15)
    assert f"password_reset mail for user {user.id} not sent" in logged and "token=" not in logged


def test_a_bad_smtp_url_is_refused_naming_the_setting(server):
    env = {**server.env, "AUTHGATE_SMTP_URL": "ftp://mail.example.org"}
    proc = subprocess.run([sys.executable, "-m", "authgate", "status"], env=env, capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 1 and "AUTHGATE_SMTP_URL" in proc.stderr and len(proc.stderr.splitlines()) == 1


@pytest.mark.parametrize("tls", ["starttls", "implicit"])
@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")  # aiosmtpd on an implicit-TLS port
def test_mail_over_tls_with_a_login(server_factory, tmp_path, tls):
    """STARTTLS (RFC 3207) on smtp://...?starttls=1, and TLS from the first byte (RFC 8314 §3.3) on smtps://, with
    AUTH (RFC 4954) and a private CA named by ``cafile``; the password is percent-decoded from the URL."""
    box = Mailbox(tls=tls, directory=tmp_path, login=("mailer", "p@ss:w/rd")).start()
    try:
        srv = server_factory({"AUTHGATE_SMTP_URL": box.url})
        user = srv.create_user()
        ask_for_reset(srv, user.username)
        assert link_in(box.wait_for(user.email, RESET)[0]).startswith(srv.base_url + "/password/reset?token=")
    finally:
        box.stop()


def test_a_new_verification_link_from_the_profile_replaces_the_old_one(mail_server, mailbox):
    user = mail_server.create_user()
    first = link_in(mailbox.wait_for(user.email, VERIFY)[0])
    browser = signed_in(mail_server, user)
    profile = browser.get("/profile")
    assert "is not verified yet" in message_of(profile)
    sent = browser.post("/profile/email/verification", data=form_on(browser, profile, "/profile/email/verification"))
    assert sent.status_code == 303
    second = link_in(mailbox.wait_for(user.email, VERIFY, count=2)[1])
    assert Browser(mail_server).get(first).status_code == 400
    assert verify(mail_server, second).status_code == 200
    profile = browser.get("/profile")
    assert "is verified" in message_of(profile)
    assert [f for f in parse_page(profile.text).forms if f.action == "/profile/email/verification"] == []
