"""The same one-time secret of an account presented by several requests at the same instant (threads released by
one ``threading.Barrier``, real HTTP, one server): a password-reset link, an invitation, an address-verification
link, a TOTP code (RFC 6238 §5.2: accepted once), a recovery code, and the page that shows recovery codes once.
Each works for exactly one request; the others get the page a used link or code gets, and the database and the
security log hold one use. Run on SQLite and PostgreSQL."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from support import Browser, User, parse_page, unique
from support.race import at_once
from test_second_factor_totp import SECOND_STEP, enrol, form_to, next_code, password_step

N = 8


@pytest.fixture(scope="module")
def srv(server_factory):
    """Two server processes, each with its thread pool. Losing requests count as wrong codes: a lockout and
    per-address limits none of them reaches."""
    return server_factory({"AUTHGATE_LOCKOUT": "1000/900", "AUTHGATE_LIMIT_LOGIN_PER_IP": "10000/300"}, workers=2)


def count(srv, sql: str) -> int:
    return srv.db.rows(sql)[0][0]


def events(srv, user_id: int, name: str) -> int:
    return count(srv, f"SELECT COUNT(*) FROM audit_events WHERE user_id = {user_id} AND event = '{name}'")


def link_forms(srv, link: str) -> list[tuple[Browser, dict]]:
    """``N`` browsers, each on the link's page with its form filled in as the page gave it."""
    opened = []
    for _ in range(N):
        browser = Browser(srv)
        page = browser.get(link)
        assert page.status_code == 200, page.text[:500]
        forms = [f for f in parse_page(page.text).forms if f.action == urlsplit(link).path]
        assert len(forms) == 1, page.text[:1500]
        opened.append((browser, forms[0].fields()))
    return opened


def one_done(answers, done: str) -> int:
    """The index of the one answer that says ``done``; every other one says the link no longer works."""
    texts = [parse_page(r.text).text for r in answers]
    won = [i for i, (r, text) in enumerate(zip(answers, texts)) if r.status_code == 200 and done in text]
    assert len(won) == 1, [(r.status_code, t[:120]) for r, t in zip(answers, texts)]
    assert all(r.status_code == 400 and "Link no longer valid" in t
               for i, (r, t) in enumerate(zip(answers, texts)) if i not in won), [r.status_code for r in answers]
    return won[0]


def signs_in(srv, user: User, password: str) -> bool:
    browser = Browser(srv)
    page, form = browser.login_page()
    return browser.submit_login(page, form, user.username, password).status_code == 303


def choose_passwords_at_once(srv, link: str, user: User) -> str:
    """Every browser chooses a password of its own at once; the one that was set."""
    opened = link_forms(srv, link)
    passwords = [f"chosen {i} " + unique("pw") for i in range(N)]
    answers = at_once([lambda b=b, f=f, p=p: b.post(urlsplit(link).path, data={**f, "password": p,
                                                                              "password_confirmation": p})
                       for (b, f), p in zip(opened, passwords)])
    won = one_done(answers, "Your password is set")
    assert [signs_in(srv, user, p) for p in passwords] == [i == won for i in range(N)]
    return passwords[won]


def test_a_reset_link_used_at_once_sets_one_password(srv):
    """A reset link works once: of several browsers choosing a password with it at once, one sets it (and only that
    password signs in); the others see the used-link page; the link is spent and the change audited once."""
    user = srv.create_user()
    link = srv.commands.run_json("users", "reset-link", user.username)["link"]
    choose_passwords_at_once(srv, link, user)
    assert events(srv, user.id, "user.password_changed") == 1
    assert count(srv, f"SELECT COUNT(*) FROM account_links WHERE user_id = {user.id} AND used_at IS NULL") == 0


def test_an_invitation_accepted_at_once_sets_one_password(srv):
    username = unique("invitee")
    made = srv.commands.run_json("users", "invite", username, "--email", f"{username}@example.org")
    user_id = count(srv, f"SELECT id FROM users WHERE username = '{username}'")
    choose_passwords_at_once(srv, made["link"], User(username, "", f"{username}@example.org", user_id))
    assert events(srv, user_id, "user.invitation_accepted") == 1
    assert events(srv, user_id, "user.password_changed") == 1


def test_a_verification_link_used_at_once_verifies_once(srv):
    user = srv.create_user()
    link = srv.commands.run_json("users", "verify-link", user.username)["link"]
    opened = link_forms(srv, link)
    one_done(at_once([lambda b=b, f=f: b.post("/email/verify", data=f) for b, f in opened]), "is verified")
    assert events(srv, user.id, "user.email_verified") == 1
    assert count(srv, f"SELECT COUNT(*) FROM users WHERE id = {user.id} AND email_verified_at IS NOT NULL") == 1


def enrolled(srv):
    user = srv.create_user()
    own = Browser(srv)
    own.login(user)
    totp, codes = enrol(own)
    return user, totp, codes, own


def second_steps_at_once(srv, user: User, code: str) -> list:
    """``N`` sign-ins of ``user`` past the password (each its own pending step), all sending ``code`` at once."""
    pending = [password_step(srv, user) for _ in range(N)]
    forms = [form_to(b.get(SECOND_STEP + "?next=/"), SECOND_STEP) for b in pending]
    answers = at_once([lambda b=b, f=f: b.post(SECOND_STEP, data=f + [("code", code), ("next", "/")])
                       for b, f in zip(pending, forms)])
    won = [r for r in answers if r.status_code == 303 and "authgate_session" in r.cookies]
    assert len(won) == 1, [(r.status_code, r.headers.get("Location")) for r in answers]
    assert all(r.status_code == 400 for r in answers if r not in won), [r.status_code for r in answers]
    return answers


def test_one_totp_code_sent_by_sign_ins_at_once_signs_in_once_rfc6238_5_2(srv):
    """§5.2: a code is accepted once. Sent at once by several sign-ins that all know the password (the user and
    someone who watched the code), it starts one session; the others get the wrong-code page."""
    user, totp, _, _ = enrolled(srv)
    before = events(srv, user.id, "login.succeeded")
    second_steps_at_once(srv, user, next_code(totp))
    assert events(srv, user.id, "login.succeeded") - before == 1


def test_one_recovery_code_sent_by_sign_ins_at_once_signs_in_once(srv):
    user, _, codes, _ = enrolled(srv)
    second_steps_at_once(srv, user, codes[0])
    assert events(srv, user.id, "factor.recovery_code_used") == 1
    assert count(srv, f"SELECT COUNT(*) FROM recovery_codes WHERE user_id = {user.id} AND used_at IS NOT NULL") == 1


def test_recovery_codes_shown_once_are_shown_to_one_tab(srv):
    """The page that shows new recovery codes, opened in several tabs at once: one shows them, the others 410."""
    user, _, _, own = enrolled(srv)
    made = own.post("/profile/factors/recovery-codes",
                    data=form_to(own.get("/profile/factors/recovery-codes"), "/profile/factors/recovery-codes")
                    + [("current_password", user.password)])
    assert made.status_code == 303 and made.headers["Location"] == "/shown-once", made.text[:300]
    tabs = [Browser(srv) for _ in range(N)]
    for tab in tabs:
        tab.session.cookies.update(own.session.cookies)
    statuses = sorted(r.status_code for r in at_once([lambda t=t: t.get("/shown-once") for t in tabs]))
    assert statuses == [200] + [410] * (N - 1), statuses
