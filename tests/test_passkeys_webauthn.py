"""Passkeys (W3C WebAuthn Level 2) through real HTTP, with a software authenticator that can lie
(``support/authenticator.py``): registration (§7.1), a sign-in by passkey alone (§7.2) and as the second step
after a password, and what an attacker tries against them — a forged signature (§7.2 step 20), a replayed
assertion (its challenge was spent, §13.4.3), a challenge made for another user or another ceremony, no user
verification for a first factor (§7.2 step 15, §6.2.3), a counter that does not grow (a cloned authenticator,
§6.1.1, §7.2 step 21), another origin (§7.2 step 13). The password grant refuses an account with a passkey
(RFC 6749 §5.2 ``invalid_grant``); an administrator lists and resets a user's factors (API and CLI), audited, and
someone who may not edit users is refused.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from support import (Browser, User, authorization_params, exchange_code, jwt_parts, parse_page, password_grant,
                     query_params)
from support.api import Api
from support.authenticator import SoftAuthenticator, b64

SECOND_STEP = "/login/second-step"


@pytest.fixture(scope="module")
def passkey_server(server_factory):
    """Issuer on ``localhost`` (an RP ID must be a domain); per-address limits out of the way (one test address)."""
    return server_factory({"AUTHGATE_LIMIT_LOGIN_PER_IP": "10000/300"}, host="localhost")


def csrf_of(response, action: str) -> str:
    forms = [f for f in parse_page(response.text).forms if f.method == "post" and f.action == action]
    assert len(forms) == 1, f"no single form to {action}:\n{response.text[:1500]}"
    return forms[0].input("csrf_token")["value"]


def signed_in(server, user: User) -> Browser:
    browser = Browser(server)
    browser.login(user)
    return browser


def register(browser: Browser, name: str = "Laptop", authenticator: SoftAuthenticator | None = None
             ) -> SoftAuthenticator:
    authenticator = authenticator or SoftAuthenticator(browser.server.base_url)
    profile = browser.get("/profile")
    token = csrf_of(profile, "/profile/passkeys")
    options = browser.post("/profile/passkeys/options", data={"csrf_token": token})
    assert options.status_code == 200 and options.headers["Cache-Control"] == "no-store", options.text[:300]
    chosen = options.json()
    assert chosen["rp"]["id"] == "localhost"
    assert chosen["authenticatorSelection"]["residentKey"] == "required"
    assert chosen["authenticatorSelection"]["userVerification"] == "required"
    added = browser.post("/profile/passkeys", data={"csrf_token": token, "name": name,
                                                    "current_password": browser.user.password,
                                                    "credential": authenticator.create(chosen)})
    assert added.status_code == 303 and added.headers["Location"] == "/profile"
    assert name in browser.get("/profile").text
    return authenticator


def sign_in_options(browser: Browser) -> tuple[str, dict]:
    login = browser.get("/login")
    token = csrf_of(login, "/login")
    assert 'formaction="/login/passkey"' in login.text and 'autocomplete="username webauthn"' in login.text
    options = browser.post("/login/passkey/options", data={"csrf_token": token})
    assert options.status_code == 200, options.text[:300]
    assert options.json().get("allowCredentials", []) == [], "a discoverable sign-in names no credential"
    return token, options.json()


def sign_in_with(browser: Browser, token: str, assertion: str):
    return browser.post("/login/passkey", data={"csrf_token": token, "next": "/profile", "credential": assertion})


def test_a_passkey_alone_signs_in_and_its_assertion_works_once_webauthn_7_2(passkey_server):
    user = passkey_server.create_user()
    authenticator = register(signed_in(passkey_server, user))

    browser = Browser(passkey_server)
    token, options = sign_in_options(browser)
    assertion = authenticator.get(options)
    done = sign_in_with(browser, token, assertion)
    assert done.status_code == 303 and done.headers["Location"] == "/profile", done.text[:500]
    assert browser.get("/profile").status_code == 200

    thief = Browser(passkey_server)
    thief_token, _ = sign_in_options(thief)
    replayed = sign_in_with(thief, thief_token, assertion)
    assert replayed.status_code == 400 and "did not sign you in" in replayed.text, \
        "an assertion over a spent challenge is refused (§13.4.3)"
    assert 'data-autofill="off"' in replayed.text, "a refused passkey is not offered in the autofill again"
    assert "authgate_session" not in thief.session.cookies


def test_a_forged_signature_no_user_verification_another_origin_and_a_clone_are_refused_webauthn_7_2(
        passkey_server):
    user = passkey_server.create_user()
    authenticator = register(signed_in(passkey_server, user))
    browser = Browser(passkey_server)

    token, options = sign_in_options(browser)
    forged = authenticator.get(options, signer=ec.generate_private_key(ec.SECP256R1()))
    assert sign_in_with(browser, token, forged).status_code == 400, "§7.2 step 20: the signature must verify"

    token, options = sign_in_options(browser)
    assert sign_in_with(browser, token, authenticator.get(options, verified=False)).status_code == 400, \
        "§7.2 step 15: a first factor needs user verification"

    token, options = sign_in_options(browser)
    elsewhere = authenticator.get(options, origin="http://localhost.evil.example")
    assert sign_in_with(browser, token, elsewhere).status_code == 400, "§7.2 step 13: the origin is the issuer's"

    token, options = sign_in_options(browser)
    counted = authenticator.sign_count
    assert sign_in_with(browser, token, authenticator.get(options)).status_code == 303
    clone = Browser(passkey_server)
    token, options = sign_in_options(clone)
    cloned = authenticator.get(options, count=counted + 1)  # the counter the original already used
    assert sign_in_with(clone, token, cloned).status_code == 400, "§6.1.1: a counter that did not grow is a clone"
    assert "authgate_session" not in clone.session.cookies

    garbage = Browser(passkey_server)
    token, _ = sign_in_options(garbage)
    for junk in ("", "{}", "not json", '{"id": 1}', "[" * 5000):
        assert sign_in_with(garbage, token, junk).status_code == 400


def test_a_challenge_works_only_for_its_user_and_its_ceremony_webauthn_13_4_3(passkey_server):
    alice, bob = passkey_server.create_user(), passkey_server.create_user()
    alice_browser, bob_browser = signed_in(passkey_server, alice), signed_in(passkey_server, bob)
    alice_key = register(alice_browser, "Alice key")

    token = csrf_of(bob_browser.get("/profile"), "/profile/passkeys")
    bobs_options = bob_browser.post("/profile/passkeys/options", data={"csrf_token": token}).json()
    stolen = SoftAuthenticator(passkey_server.base_url)
    alice_token = csrf_of(alice_browser.get("/profile"), "/profile/passkeys")
    refused = alice_browser.post("/profile/passkeys", data={"csrf_token": alice_token, "name": "Stolen challenge",
                                                            "current_password": alice.password,
                                                            "credential": stolen.create(bobs_options)})
    assert refused.status_code == 303 and "Stolen" not in alice_browser.get(refused.headers["Location"]).text

    bob_key = register(bob_browser, "Bob key")
    pending = Browser(passkey_server)
    assert urlsplit(pending.login(alice).headers["Location"]).path == SECOND_STEP
    page = pending.get(SECOND_STEP + "?next=/")
    step_token = csrf_of(page, SECOND_STEP + "/passkey")
    options = pending.post(SECOND_STEP + "/passkey/options", data={"csrf_token": step_token}).json()
    assert [c["id"] for c in options["allowCredentials"]] == [b64(alice_key.credential_id)]
    wrong_user = pending.post(SECOND_STEP + "/passkey", data={"csrf_token": step_token, "next": "/",
                                                              "credential": bob_key.get(options)})
    assert wrong_user.status_code == 400, "Bob's passkey does not finish Alice's sign-in"

    first_factor_token, first_factor_options = sign_in_options(Browser(passkey_server))
    other_ceremony = pending.post(SECOND_STEP + "/passkey", data={
        "csrf_token": step_token, "next": "/", "credential": alice_key.get(first_factor_options)})
    assert other_ceremony.status_code == 400, "a sign-in challenge does not serve a second step"

    options = pending.post(SECOND_STEP + "/passkey/options", data={"csrf_token": step_token}).json()
    done = pending.post(SECOND_STEP + "/passkey", data={"csrf_token": step_token, "next": "/",
                                                        "credential": alice_key.get(options, verified=False)})
    assert done.status_code == 303 and done.headers["Location"] == "/", "after a password, presence is enough"
    assert pending.get("/profile").status_code == 200


def test_the_password_grant_refuses_an_account_with_a_passkey_rfc6749_5_2(passkey_server):
    user = passkey_server.create_user()
    client = passkey_server.create_client(grants=["password"])
    assert password_grant(passkey_server, client, user).status_code == 200
    register(signed_in(passkey_server, user))
    refused = password_grant(passkey_server, client, user)
    assert refused.status_code == 400 and refused.json()["error"] == "invalid_grant"
    assert "second factor" in refused.json()["error_description"]


def test_an_administrator_lists_and_resets_factors_and_others_may_not(passkey_server):
    user = passkey_server.create_user()
    register(signed_in(passkey_server, user), "Phone")
    admin = Api(passkey_server, passkey_server.create_pat("admin", scopes=["*"])["token"])
    listed = admin.get(f"/users/{user.id}/factors")
    assert listed.status_code == 200, listed.text
    [passkey] = listed.json()["data"]
    assert passkey["kind"] == "passkey" and passkey["name"] == "Phone" and passkey["created_at"]
    assert set(passkey) == {"kind", "name", "created_at", "last_used_at"}, "no secret, no key, no credential id"

    viewer = passkey_server.create_user()
    passkey_server.commands.run_json("permissions", "grant", "--user", viewer.username, "view-users")
    viewer_api = Api(passkey_server, passkey_server.create_pat(viewer.username, scopes=["*"])["token"])
    assert viewer_api.get(f"/users/{user.id}/factors").status_code == 403
    assert viewer_api.delete(f"/users/{user.id}/factors").status_code == 403
    assert len(admin.get(f"/users/{user.id}/factors").json()["data"]) == 1, "refused: nothing removed"
    assert admin.delete(f"/users/{user.id}/factors").status_code == 204
    assert admin.get(f"/users/{user.id}/factors").json()["data"] == []
    browser = Browser(passkey_server)
    assert browser.login(user).headers["Location"] == "/", "after a reset the password alone signs in"

    register(signed_in(passkey_server, user), "Second phone")
    reset = passkey_server.commands.run_json("users", "reset-factors", user.username)
    assert reset["removed"]["passkey"] == 1

    register(signed_in(passkey_server, user), "Third phone")
    administrator = signed_in(passkey_server, User("admin", passkey_server.admin_password, "", 1))
    page = administrator.get(f"/admin/users/{user.id}")
    assert "Third phone" in page.text and f"/admin/users/{user.id}/factors/reset" in page.text
    confirm = administrator.get(f"/admin/users/{user.id}/factors/reset")
    action = f"/admin/users/{user.id}/factors/reset"
    done = administrator.post(action, data={"csrf_token": csrf_of(confirm, action)})
    assert done.status_code == 303 and "Third phone" not in administrator.get(done.headers["Location"]).text
    logs = admin.ok("GET", "/security_logs?filter=factor.reset&per_page=100")["data"]
    assert len([e for e in logs if e["event"] == "factor.reset" and e["subject"] == user.username]) == 3


def id_token_amr(server, browser: Browser, client) -> list[str]:
    code = query_params(browser.authorize(authorization_params(client, scope="openid"), None))["code"]
    tokens = exchange_code(server, client, code)
    assert tokens.status_code == 200, tokens.text
    return jwt_parts(tokens.json()["id_token"])[1].get("amr")


def test_the_id_token_says_a_passkey_signed_in_rfc8176_2(passkey_server, redirect_uri):
    user = passkey_server.create_user()
    client = passkey_server.create_client(redirect_uris=[redirect_uri], grants=["authorization_code"])
    authenticator = register(signed_in(passkey_server, user))

    alone = Browser(passkey_server)
    token, options = sign_in_options(alone)
    assert sign_in_with(alone, token, authenticator.get(options)).status_code == 303
    assert id_token_amr(passkey_server, alone, client) == ["hwk", "mfa"]

    after_password = Browser(passkey_server)
    after_password.login(user)
    step_token = csrf_of(after_password.get(SECOND_STEP + "?next=/"), SECOND_STEP + "/passkey")
    options = after_password.post(SECOND_STEP + "/passkey/options", data={"csrf_token": step_token}).json()
    assert after_password.post(SECOND_STEP + "/passkey", data={
        "csrf_token": step_token, "next": "/", "credential": authenticator.get(options)}).status_code == 303
    assert id_token_amr(passkey_server, after_password, client) == ["pwd", "hwk", "mfa"]


def test_a_session_alone_cannot_add_a_passkey_that_outlives_a_password_reset(passkey_server):
    """Someone holding a user's session for a while (a borrowed laptop, a stolen cookie) must not leave a passkey
    behind: it signs in alone (WebAuthn section 7.2) and a password reset removes none. Adding one takes the current
    password, as removing one does; a wrong one counts against the account's lockout like a failed sign-in."""
    user = passkey_server.create_user()
    browser = signed_in(passkey_server, user)
    for password in (None, "not the password"):
        token = csrf_of(browser.get("/profile"), "/profile/passkeys")
        options = browser.post("/profile/passkeys/options", data={"csrf_token": token}).json()
        data = {"csrf_token": token, "name": "Left behind",
                "credential": SoftAuthenticator(passkey_server.base_url).create(options)}
        if password is not None:
            data["current_password"] = password
        refused = browser.post("/profile/passkeys", data=data)
        assert refused.status_code == 303, refused.text[:300]
        shown = browser.get(refused.headers["Location"]).text
        assert "current password" in shown.lower() and "Left behind" not in shown
    register(browser, "With the password")


def test_nobody_renames_or_removes_another_users_passkey_and_the_reset_rule_holds(passkey_server):
    owner, other = passkey_server.create_user(), passkey_server.create_user()
    owner_browser = signed_in(passkey_server, owner)
    register(owner_browser, "Owner key")
    passkey_id = int(re.search(r"/profile/passkeys/(\d+)/rename", owner_browser.get("/profile").text)[1])
    intruder = signed_in(passkey_server, other)
    assert intruder.get(f"/profile/passkeys/{passkey_id}/rename").status_code == 404
    token = csrf_of(intruder.get("/profile"), "/profile/passkeys")
    assert intruder.post(f"/profile/passkeys/{passkey_id}/remove",
                         data={"csrf_token": token, "current_password": other.password}).status_code == 404
    assert intruder.post(f"/profile/passkeys/{passkey_id}/rename",
                         data={"csrf_token": token, "name": "Mine now"}).status_code == 404
    assert "Owner key" in owner_browser.get("/profile").text
    renamed = owner_browser.post(f"/profile/passkeys/{passkey_id}/rename", data={
        "csrf_token": csrf_of(owner_browser.get("/profile"), "/profile/passkeys"), "name": "Owner's key"})
    assert renamed.status_code == 303 and "Owner&#39;s key" in owner_browser.get("/profile").text
    admin = Api(passkey_server, passkey_server.create_pat("admin", scopes=["*"])["token"])
    logs = admin.ok("GET", "/security_logs", params={"filter": owner.username, "per_page": 100})["data"]
    assert [(e["event"], e["details"]) for e in logs if e["event"] == "factor.renamed"] == [
        ("factor.renamed", {"kind": "passkey", "from": "Owner key", "to": "Owner's key"})], "one rename, the owner's"

    wrong = owner_browser.post(f"/profile/passkeys/{passkey_id}/remove", data={
        "csrf_token": csrf_of(owner_browser.get("/profile"), "/profile/passkeys"), "current_password": "not it"})
    assert wrong.status_code == 422 and "Owner&#39;s key" in owner_browser.get("/profile").text

    editor = passkey_server.create_user()
    passkey_server.commands.run_json("permissions", "grant", "--user", editor.username, "view-users", "edit-users")
    editor_api = Api(passkey_server, passkey_server.create_pat(editor.username, scopes=["*"])["token"])
    assert editor_api.get(f"/users/{owner.id}/factors").status_code == 200
    assert editor_api.delete("/users/1/factors").status_code == 403, "an administrator's factors: administrators only"
    assert editor_api.delete(f"/users/{editor.id}/factors").status_code == 403, "one's own: on the profile page"
    assert editor_api.get("/users/999999/factors").status_code == 404
    assert editor_api.delete(f"/users/{owner.id}/factors").status_code == 204
