"""Linking and unlinking upstream identities from the account page (issue 18, item 3), over real HTTP.

A person signed in here presses **Link NAME** on ``/profile``; the browser goes to the upstream (the loopback
OpenID Provider of ``support/oidc_stub.py``, the ``sub`` it answers with chosen per test) and back to the sign-in's
callback, which links that identity to the signed-in user, never one linked to another user. **Unlink** is asked
first, needs the page's CSRF token, finds only the user's own links, and never removes the last way an account
without a password or passkey signs in."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest
import requests

from support import Browser, api_for, parse_page, unique


@pytest.fixture(scope="module")
def srv(server_factory):
    return server_factory()


def add_provider(srv, stub, *flags: str) -> str:
    name = unique("idp")
    srv.commands.run_json("providers", "add", "--kind", "oidc", "--name", name, "--issuer", stub.issuer,
                          "--client-id", "downstream-at-stub", "--client-secret-stdin", "--allow-private-network",
                          *flags, input="stub-secret\n")
    return name


@pytest.fixture(scope="module")
def provider(srv, stub):
    return add_provider(srv, stub)


@pytest.fixture
def upstream(stub):
    """The stub, answering as a new upstream person (their own ``sub`` and address) for this test."""
    stub.claims = {"sub": unique("sub"), "email": unique("up") + "@upstream.example", "email_verified": True}
    yield stub
    stub.claims = {}


def signed_in(srv, user=None) -> Browser:
    browser = Browser(srv)
    browser.login(user or srv.create_user())
    return browser


def profile(browser: Browser):
    page = browser.get("/profile")
    assert page.status_code == 200, page.text[:500]
    return page


def linked_rows(browser: Browser) -> dict[str, int]:
    """The linked-identities section as the user sees it: provider name -> the link's id (from its Unlink link)."""
    return {name: int(link_id) for link_id, name in
            re.findall(r'href="/profile/identities/(\d+)/unlink" aria-label="Unlink ([^"]+)"', profile(browser).text)}


def section_text(browser: Browser) -> str:
    page = profile(browser).text
    start = page.index('id="linked-identities"')
    return parse_page(page[start:page.index("</section>", start)]).text


def press_link(browser: Browser, name: str, **fields):
    forms = [f for f in parse_page(profile(browser).text).forms if f.action == f"/profile/identities/{name}/link"]
    assert len(forms) == 1, f"no Link {name} button"
    return browser.post(forms[0].action, data={**forms[0].fields(), **fields})


def link(browser: Browser, name: str, stub):
    """Press Link NAME and go through the upstream; the flash message /profile then shows."""
    to_upstream = press_link(browser, name)
    assert to_upstream.status_code == 303 and to_upstream.headers["Location"].startswith(stub.issuer + "/authorize?")
    back = browser.get(to_upstream.headers["Location"])
    assert back.status_code == 302 and f"/login/federated/{name}/callback?" in back.headers["Location"]
    done = browser.get(back.headers["Location"])
    assert done.status_code == 303 and done.headers["Location"] == "/profile", done.text[:500]
    return parse_page(profile(browser).text).text


def unlink(browser: Browser, link_id: int):
    """Unlink, as the page asks: the confirm page, then its form."""
    asked = browser.get(f"/profile/identities/{link_id}/unlink")
    if asked.status_code != 200:
        return asked
    [form] = [f for f in parse_page(asked.text).forms if f.method == "post"]
    return browser.post(form.action, data=form.fields())


def sign_in_with(srv, name: str) -> tuple[Browser, object]:
    """A new browser pressing "Sign in with NAME" on the sign-in page, through the stub: the callback's answer."""
    browser = Browser(srv)
    login, form = browser.login_page("/profile")
    to_upstream = browser.post(f"/login/federated/{name}", data=form.fields())
    assert to_upstream.status_code == 303, to_upstream.text[:500]
    back = browser.get(to_upstream.headers["Location"])
    return browser, browser.get(back.headers["Location"])


def events(srv, name: str) -> list[dict]:
    r = api_for(srv, "admin").get("/security_logs", params={"per_page": 100, "filter": name})
    assert r.status_code == 200, r.text
    return r.json()["data"]


def test_a_signed_in_user_links_an_identity_and_then_signs_in_with_it(srv, provider, upstream):
    user = srv.create_user()
    browser = signed_in(srv, user)
    assert f"Link {provider}" in section_text(browser) and "No account elsewhere is linked" in section_text(browser)
    shown = link(browser, provider, upstream)
    assert f"Your {provider} account is linked" in shown
    section = section_text(browser)
    assert provider in section and upstream.claims["email"] in section and upstream.claims["sub"] in section
    assert f"Link {provider}" not in section  # linked already: no second Link button for it
    assert provider in linked_rows(browser)
    assert any(e["event"] == "identity.linked" and e["user_id"] == user.id for e in events(srv, provider))

    other, answer = sign_in_with(srv, provider)
    assert answer.status_code == 303 and answer.headers["Location"] == "/profile", answer.text[:500]
    assert user.username in profile(other).text


def test_linking_an_identity_already_linked_to_another_user_is_refused(srv, provider, upstream):
    """Nobody takes over another user's sign-in by linking the same upstream account to their own."""
    owner = signed_in(srv)
    link(owner, provider, upstream)
    intruder = signed_in(srv)
    shown = link(intruder, provider, upstream)
    assert f"This {provider} account is linked to another account here" in shown
    assert linked_rows(intruder) == {} and provider in linked_rows(owner)
    assert any(e["event"] == "federation.refused" and "another user" in e["details"]["reason"]
               for e in events(srv, provider))


def test_a_link_answered_in_a_browser_signed_in_as_someone_else_links_nothing(srv, provider, upstream):
    """The round trip remembers who pressed Link: signing in as another user before the answer comes links
    nothing to either."""
    first_user = srv.create_user()
    browser = signed_in(srv, first_user)
    to_upstream = press_link(browser, provider)
    back = browser.get(to_upstream.headers["Location"])
    browser.login(srv.create_user())
    answer = browser.get(back.headers["Location"])
    assert answer.status_code == 400 and "started by another account" in parse_page(answer.text).text
    assert linked_rows(browser) == {} and linked_rows(signed_in(srv, first_user)) == {}


def test_unlinking_asks_first_then_the_identity_no_longer_signs_in(srv, provider, upstream):
    browser = signed_in(srv)
    link(browser, provider, upstream)
    link_id = linked_rows(browser)[provider]
    asked = browser.get(f"/profile/identities/{link_id}/unlink")
    assert asked.status_code == 200 and f"Unlink your {provider} account?" in parse_page(asked.text).text
    assert linked_rows(browser) == {provider: link_id}  # asking changed nothing
    done = unlink(browser, link_id)
    assert done.status_code == 303 and done.headers["Location"] == "/profile"
    assert f"Your {provider} account is unlinked" in parse_page(profile(browser).text).text
    assert linked_rows(browser) == {} and f"Link {provider}" in section_text(browser)
    assert any(e["event"] == "identity.unlinked" for e in events(srv, provider))
    _, answer = sign_in_with(srv, provider)
    assert answer.status_code == 400 and f"No account here is linked to your {provider} account" in answer.text


def test_unlinking_the_last_way_into_an_account_without_a_password_is_refused(srv, stub, upstream):
    """A user made just in time has no password; with no passkey either, their last link stays. With a second link,
    the first may go."""
    jit = add_provider(srv, stub, "--jit")
    second = add_provider(srv, stub)
    browser, answer = sign_in_with(srv, jit)
    assert answer.status_code == 303, answer.text[:500]
    only = linked_rows(browser)[jit]
    refused = unlink(browser, only)
    assert refused.status_code == 422
    assert "This is the only way your account signs in" in parse_page(refused.text).text
    assert linked_rows(browser) == {jit: only}

    upstream.claims = {**upstream.claims, "sub": unique("sub")}
    link(browser, second, upstream)
    assert unlink(browser, only).status_code == 303
    rows = linked_rows(browser)
    assert list(rows) == [second]
    assert unlink(browser, rows[second]).status_code == 422
    assert list(linked_rows(browser)) == [second]


def test_a_link_at_a_disabled_provider_is_no_way_in(srv, stub, upstream):
    """A guard: the link at a disabled provider signs nobody in, so it does not make the last enabled one
    removable, and it may itself be removed."""
    jit = add_provider(srv, stub, "--jit")
    spare = add_provider(srv, stub)
    browser, answer = sign_in_with(srv, jit)
    assert answer.status_code == 303, answer.text[:500]
    upstream.claims = {**upstream.claims, "sub": unique("sub")}
    link(browser, spare, upstream)
    srv.commands.run_json("providers", "update", spare, "--no-enabled")
    rows = linked_rows(browser)
    assert unlink(browser, rows[jit]).status_code == 422
    assert unlink(browser, rows[spare]).status_code == 303
    assert list(linked_rows(browser)) == [jit]


def test_link_and_unlink_without_the_pages_csrf_token_are_refused(srv, provider, upstream):
    browser = signed_in(srv)
    bad_link = press_link(browser, provider, csrf_token="forged")
    assert bad_link.status_code in (400, 403) and "Location" not in bad_link.headers
    assert linked_rows(browser) == {}
    link(browser, provider, upstream)
    link_id = linked_rows(browser)[provider]
    for data in ({}, {"csrf_token": "forged"}):
        refused = browser.post(f"/profile/identities/{link_id}/unlink", data=data)
        assert refused.status_code in (400, 403), refused.status_code
    assert linked_rows(browser) == {provider: link_id}


def test_another_users_identity_cannot_be_unlinked_by_its_id(srv, provider, upstream):
    owner = signed_in(srv)
    link(owner, provider, upstream)
    theirs = linked_rows(owner)[provider]
    other = signed_in(srv)
    assert other.get(f"/profile/identities/{theirs}/unlink").status_code == 404
    [token_form] = [f for f in parse_page(profile(other).text).forms if f.action == f"/profile/identities/{provider}/link"]
    refused = other.post(f"/profile/identities/{theirs}/unlink", data={"csrf_token": token_form.fields()["csrf_token"]})
    assert refused.status_code == 404 and "No such linked sign-in" in parse_page(refused.text).text
    assert linked_rows(owner) == {provider: theirs}


def test_a_page_post_signed_out_goes_to_the_sign_in_page(srv, provider):
    """A guard: link and unlink belong to a signed-in user."""
    stranger = Browser(srv)
    for path in (f"/profile/identities/{provider}/link", "/profile/identities/1/unlink"):
        answer = stranger.post(path, data={})
        assert answer.status_code == 303 and answer.headers["Location"].startswith("/login"), path


def test_two_providers_mapping_one_group_and_a_membership_by_hand_do_not_undo_each_other(srv, stub, upstream):
    """A provider's sign-in takes away only the group memberships its own mapping made: another provider mapping
    an upstream group to the same group, and an administrator adding a member by hand, are left as they are."""
    group = unique("shared")
    srv.commands.run_json("groups", "create", group)
    a = add_provider(srv, stub, "--groups-claim", "groups", "--map-group", f"eng={group}")
    b = add_provider(srv, stub, "--groups-claim", "groups", "--map-group", f"ops={group}")
    user = srv.create_user()
    browser = signed_in(srv, user)
    first = {**upstream.claims}
    link(browser, a, upstream)
    stub.claims = {"sub": unique("sub"), "email": unique("up") + "@upstream.example", "email_verified": True,
                   "groups": []}
    link(browser, b, stub)
    second = {**stub.claims}

    def through(name: str, claims: dict, groups: list[str]) -> list[str]:
        stub.claims = {**claims, "groups": groups}
        assert sign_in_with(srv, name)[1].status_code == 303
        return srv.commands.run_json("users", "show", user.username)["groups"]

    assert through(a, first, ["eng"]) == [group]
    assert through(b, second, []) == [group]  # b never made this membership
    assert through(a, first, []) == []  # a made it, a takes it away

    by_hand = srv.create_user()
    srv.commands.run_json("groups", "add-member", group, by_hand.username)
    hand_browser = signed_in(srv, by_hand)
    stub.claims = {"sub": unique("sub"), "email": unique("up") + "@upstream.example", "email_verified": True}
    link(hand_browser, a, stub)
    hand_claims = {**stub.claims}
    stub.claims = {**hand_claims, "groups": []}
    assert sign_in_with(srv, a)[1].status_code == 303
    assert srv.commands.run_json("users", "show", by_hand.username)["groups"] == [group]


def test_after_the_upgrade_a_provider_still_manages_the_memberships_its_mapping_made(server_factory, stub):
    """Migration 0034: a membership made before it is the provider's when the provider maps its group and the member
    has an identity there (that provider's sign-in managed it until then); any other stays a membership by hand."""
    from test_security_client_directory_scopes import downgrade

    srv = server_factory()
    group = unique("mapped")
    srv.commands.run_json("groups", "create", group)
    name = add_provider(srv, stub, "--groups-claim", "groups", "--map-group", f"eng={group}")
    linked, by_hand = srv.create_user(), srv.create_user()
    stub.claims = {"sub": unique("sub"), "email": unique("up") + "@upstream.example", "email_verified": True,
                   "groups": ["eng"]}
    link(signed_in(srv, linked), name, stub)
    claims = {**stub.claims}
    assert sign_in_with(srv, name)[1].status_code == 303
    srv.commands.run_json("groups", "add-member", group, by_hand.username)
    srv.stop(drop_database=False)
    downgrade(srv, "0033")
    srv.start()  # serve applies 0034

    stub.claims = {**claims, "groups": []}
    try:
        assert sign_in_with(srv, name)[1].status_code == 303
    finally:
        stub.claims = {}
    assert srv.commands.run_json("users", "show", linked.username)["groups"] == []
    assert srv.commands.run_json("users", "show", by_hand.username)["groups"] == [group]


def test_linking_applies_the_providers_group_mapping_at_once(srv, stub, upstream):
    """The upstream's groups at the link are what its next sign-in would apply: the mapped group is joined then."""
    group = unique("at-link")
    srv.commands.run_json("groups", "create", group)
    name = add_provider(srv, stub, "--groups-claim", "groups", "--map-group", f"eng={group}")
    user = srv.create_user()
    stub.claims = {**upstream.claims, "groups": ["eng", "unmapped"]}
    link(signed_in(srv, user), name, stub)
    assert srv.commands.run_json("users", "show", user.username)["groups"] == [group]
    assert any(e["event"] == "federation.group_joined" for e in events(srv, user.username))


def jit_user(srv, stub, upstream) -> tuple[Browser, dict]:
    """A person made just in time by a provider (no password here), signed in through it: their browser and row."""
    name = add_provider(srv, stub, "--jit")
    upstream.claims = {**upstream.claims, "preferred_username": unique("jit")}
    browser, answer = sign_in_with(srv, name)
    assert answer.status_code == 303, answer.text[:500]
    [row] = srv.commands.run_json("users", "list", "--filter", upstream.claims["email"])["users"]
    return browser, row


def set_password(browser: Browser, password: str):
    form = next(f for f in parse_page(browser.get("/profile/password").text).forms if f.action == "/profile/password")
    return browser.post(form.action, data={**form.fields(), "password": password, "password_confirmation": password})


def test_an_account_made_just_in_time_sets_a_password_right_after_signing_in_and_then_signs_in_with_it(
        srv, stub, upstream):
    """NIST SP 800-63B §6.1.2.3 (adding an authenticator): an account without a password proves it is the user
    by a sign-in at most ten minutes old instead of the password it lacks; then the password signs in too."""
    browser, row = jit_user(srv, stub, upstream)
    page = browser.get("/profile/password")
    assert "Set a password" in page.text and 'name="current_password"' not in page.text
    assert "having signed in within the last 10 minutes confirms it is you" in parse_page(page.text).text
    password = "jit-pw-" + unique("p") + "-long"
    done = set_password(browser, password)
    assert done.status_code == 303, done.text[:1000]
    from support import User

    Browser(srv).login(User(row["username"], password, row["email"], row["id"]))  # 303, or it asserts
    assert "Change password" in browser.get("/profile/password").text  # now it has one: the form asks for it


def test_an_account_without_a_password_is_refused_a_password_by_an_old_session_or_a_token(srv, stub, upstream):
    """The recent sign-in stands in for the password only in a page session: one signed in more than ten minutes
    ago is refused, and so is a token (a token that may write the user is not the user)."""
    from test_security_client_directory_scopes import run_sql

    browser, row = jit_user(srv, stub, upstream)
    run_sql(srv, ("UPDATE web_sessions SET auth_time = %s WHERE user_id = %s",
                  (datetime.now(timezone.utc).replace(tzinfo=None) - timedelta(minutes=11), row["id"])))
    refused = set_password(browser, "old-session-" + unique("p"))
    assert refused.status_code == 422
    assert "sign out, sign in again, and do this within 10 minutes" in parse_page(refused.text).text

    pat = srv.create_pat(row["username"], scopes=["users:write"])
    by_token = "by-token-" + unique("p")
    api = requests.put(srv.url(f"/api/1.0/users/{row['id']}"), timeout=10,
                       headers={"Authorization": f"Bearer {pat['token']}"}, json={"password": by_token})
    assert api.status_code == 422, api.text
    assert "sign in again" in api.text
    fresh = Browser(srv)
    login, form = fresh.login_page("/profile")
    assert fresh.submit_login(login, form, row["username"], by_token).status_code != 303
