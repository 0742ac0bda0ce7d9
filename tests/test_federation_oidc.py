"""Signing in through an upstream OpenID Connect provider (issue 18), end to end over real HTTP.

The upstream is a second authgate (its own database and port) with a client whose redirect URI is the downstream
authgate's callback; a person (a requests session following the pages' forms and redirects across both servers)
signs in there, and the downstream's own code flow for one of its clients then completes, with ``amr`` holding
``fed``. The refusals (wrong ``iss``, a bad ``nonce``, an expired ID token, one signed by an unknown key) are shown
against a small loopback OpenID Provider the test controls (``support/oidc_stub.py``)."""

from __future__ import annotations

import secrets
from pathlib import Path
from urllib.parse import urlencode, urljoin, urlsplit

import pytest
import requests

from support import HTTP_TIMEOUT, api_for, jwt_parts, parse_page, pkce_pair, query_params, unique
from support.person import Person
from support.values import User


# -- the two servers and the person between them --------------------------------------------------------------


@pytest.fixture(scope="module")
def downstream(server_factory):
    return server_factory()


@pytest.fixture(scope="module")
def upstream(server_factory):
    return server_factory()


def add_provider(downstream, upstream_issuer: str, client_id: str, client_secret: str, *flags: str) -> str:
    name = unique("idp")
    data = downstream.commands.run_json(
        "providers", "add", "--kind", "oidc", "--name", name, "--issuer", upstream_issuer, "--client-id", client_id,
        "--client-secret-stdin", "--scope", "openid", "--scope", "email", "--scope", "profile",
        "--allow-private-network", *flags, input=client_secret + "\n")
    assert data["name"] == name and data["client_secret_set"] is True and "client_secret" not in data
    return name


def upstream_provider(downstream, upstream, *flags: str) -> str:
    """A provider on the downstream for a new client of the upstream authgate, registered with its callback."""
    name_hint = unique("idp")
    # the name is chosen first: the callback URL registered upstream carries it
    callback = downstream.url(f"/login/federated/{name_hint}/callback")
    client = upstream.create_client(redirect_uris=[callback], grants=["authorization_code"],
                                    scopes=["openid", "email", "profile"])
    data = downstream.commands.run_json(
        "providers", "add", "--name", name_hint, "--issuer", upstream.issuer, "--client-id", client.client_id,
        "--client-secret-stdin", "--allow-private-network", *flags, input=client.client_secret + "\n")
    assert data["scopes"] == ["openid", "email", "profile"]
    return name_hint


def start_downstream_authorization(person: Person, downstream, client, verifier: str) -> tuple[requests.Response, dict]:
    _, challenge = pkce_pair(verifier)
    params = {"response_type": "code", "client_id": client.client_id, "redirect_uri": client.redirect_uri,
              "scope": "openid users:read", "state": secrets.token_urlsafe(8), "nonce": secrets.token_urlsafe(8),
              "code_challenge": challenge, "code_challenge_method": "S256"}
    to_login = person.get(downstream.url("/oauth/authorize?" + urlencode(params)))
    assert to_login.status_code == 303 and urlsplit(to_login.headers["Location"]).path == "/login"
    login = person.follow(to_login)
    assert login.status_code == 200
    return login, params


def through_provider(person: Person, login: requests.Response, name: str, upstream_user, upstream) -> requests.Response:
    """Press "Sign in with NAME", sign in at the upstream authgate; the downstream callback's answer."""
    to_upstream = person.press(login, f"Sign in with {name}")
    assert to_upstream.status_code == 303, to_upstream.text[:1000]
    authorize = urlsplit(to_upstream.headers["Location"])
    assert f"{authorize.scheme}://{authorize.netloc}" == upstream.issuer
    sent = query_params(to_upstream.headers["Location"])
    assert sent["code_challenge_method"] == "S256" and sent["state"] and sent["nonce"]
    upstream_login = person.follow(person.follow(to_upstream))
    assert upstream_login.status_code == 200, upstream_login.text[:500]
    back = person.sign_in_upstream(upstream_login, upstream_user)
    assert back.status_code == 302, back.text[:500]
    assert back.headers["Location"].startswith(login.url.split("/login")[0] + f"/login/federated/{name}/callback?")
    assert "iss" in query_params(back.headers["Location"])  # RFC 9207: the upstream names itself
    return person.follow(back)


def finish_downstream(person: Person, downstream, client, params: dict, after_callback: requests.Response,
                      verifier: str) -> dict:
    """From the callback's redirect back to /oauth/authorize: consent, code, tokens."""
    assert after_callback.status_code == 303, after_callback.text[:1000]
    assert after_callback.headers["Location"].startswith("/oauth/authorize?")
    consent = person.follow(after_callback)
    if consent.status_code == 200:
        consent = person.press(consent, "Authorize")
    assert consent.status_code == 302, consent.text[:500]
    answer = query_params(consent.headers["Location"])
    assert answer["state"] == params["state"], answer
    tokens = requests.post(downstream.url("/oauth/token"), data={
        "grant_type": "authorization_code", "code": answer["code"], "redirect_uri": client.redirect_uri,
        "code_verifier": verifier}, auth=client.basic, timeout=HTTP_TIMEOUT)
    assert tokens.status_code == 200, tokens.text
    return tokens.json()


def me(downstream, access_token: str) -> dict:
    r = requests.get(downstream.url("/api/1.0/users/me"), headers={"Authorization": f"Bearer {access_token}"},
                     timeout=HTTP_TIMEOUT)
    assert r.status_code == 200, r.text
    return r.json()


def refusal(page: requests.Response) -> str:
    assert page.status_code in (400, 502), f"{page.status_code} {page.text[:500]}"
    return parse_page(page.text).by_id["federation-error"]


def verify_email(server, user) -> None:
    """The user opens their verification link (as they would from the letter)."""
    link = server.commands.run_json("users", "verify-link", user.username, "--print")["link"]
    person = Person()
    page = person.get(link)
    assert page.status_code == 200, page.text[:300]
    done = person.post(urljoin(page.url, person.form(page).action), person.form(page).fields())
    assert done.status_code in (200, 303), done.text[:300]


@pytest.fixture(scope="module")
def app(downstream):
    """A client of the downstream authgate (its own application)."""
    return downstream.create_client(redirect_uris=["http://127.0.0.1:9/cb"], grants=["authorization_code"],
                                    scopes=["openid", "users:read"])


# -- the sign-in page and the round trip ------------------------------------------------------------------------


def test_jit_sign_in_through_upstream_authgate_then_the_downstream_code_flow_and_api_work(downstream, upstream, app):
    """A first sign-in creates the user (JIT) and returns to the pending /oauth/authorize; the access token's amr
    holds fed (RFC 8176 §2 names, plus fed); a second sign-in finds the same, linked, user."""
    name = upstream_provider(downstream, upstream, "--jit")
    alice = upstream.create_user()
    person, verifier = Person(), secrets.token_urlsafe(48)
    login, params = start_downstream_authorization(person, downstream, app, verifier)
    assert f"Sign in with {name}" in parse_page(login.text).text
    tokens = finish_downstream(person, downstream, app, params, through_provider(person, login, name, alice, upstream),
                               verifier)
    claims = jwt_parts(tokens["access_token"])[1]
    assert "fed" in claims["amr"] and "pwd" in claims["amr"], claims
    first = me(downstream, tokens["access_token"])
    assert first["username"] == alice.username and first["email"] == alice.email
    id_claims = jwt_parts(tokens["id_token"])[1]
    assert "fed" in id_claims["amr"]

    again, verifier = Person(), secrets.token_urlsafe(48)
    login, params = start_downstream_authorization(again, downstream, app, verifier)
    tokens = finish_downstream(again, downstream, app, params, through_provider(again, login, name, alice, upstream),
                               verifier)
    assert me(downstream, tokens["access_token"])["id"] == first["id"]


def test_a_provider_without_jit_refuses_an_unknown_person_with_a_page_saying_what_to_do(downstream, upstream, app):
    name = upstream_provider(downstream, upstream)
    person, verifier = Person(), secrets.token_urlsafe(48)
    login, _ = start_downstream_authorization(person, downstream, app, verifier)
    message = refusal(through_provider(person, login, name, upstream.create_user(), upstream))
    assert f"No account here is linked to your {name} account" in message and "Sign in here with your password first" in message


def test_an_unverified_upstream_email_never_links_to_the_local_account(downstream, upstream, app):
    """Even with linking by verified email allowed (and JIT on), an address the upstream has not verified links to
    nobody: the local account with that address stays unlinked, and no account is created over it."""
    name = upstream_provider(downstream, upstream, "--link-verified-email", "--jit")
    remote = upstream.create_user()  # email not verified upstream: email_verified false
    local = downstream_user_with_email(downstream, remote.email)
    verify_email(downstream, local)
    person = Person()
    login, _ = start_downstream_authorization(person, downstream, app, secrets.token_urlsafe(48))
    message = refusal(through_provider(person, login, name, remote, upstream))
    assert f"already uses the address {remote.email}" in message
    # the local password still signs in as before, and no link was made (a second try is refused the same way)
    person = Person()
    login, _ = start_downstream_authorization(person, downstream, app, secrets.token_urlsafe(48))
    assert f"already uses the address {remote.email}" in refusal(through_provider(person, login, name, remote, upstream))


def downstream_user_with_email(downstream, email: str, *flags: str) -> User:
    username, password = unique("local"), "pw-" + secrets.token_urlsafe(12)
    data = downstream.commands.run_json("users", "create", username, "--email", email, "--password-stdin", *flags,
                                        input=password)
    return User(username=username, password=password, email=email, id=data["id"], data=data)


def test_a_verified_upstream_email_links_to_the_local_account_when_the_provider_allows_it(downstream, upstream, app):
    name = upstream_provider(downstream, upstream, "--link-verified-email")
    remote = upstream.create_user()
    verify_email(upstream, remote)
    local = downstream_user_with_email(downstream, remote.email)
    verify_email(downstream, local)
    person, verifier = Person(), secrets.token_urlsafe(48)
    login, params = start_downstream_authorization(person, downstream, app, verifier)
    tokens = finish_downstream(person, downstream, app, params, through_provider(person, login, name, remote, upstream),
                               verifier)
    assert me(downstream, tokens["access_token"])["username"] == local.username


def test_a_verified_email_does_not_link_when_the_provider_does_not_allow_it(downstream, upstream, app):
    name = upstream_provider(downstream, upstream)
    remote = upstream.create_user()
    verify_email(upstream, remote)
    verify_email(downstream, downstream_user_with_email(downstream, remote.email))
    person = Person()
    login, _ = start_downstream_authorization(person, downstream, app, secrets.token_urlsafe(48))
    assert "No account here is linked" in refusal(through_provider(person, login, name, remote, upstream))


def test_a_verified_upstream_email_does_not_link_to_a_local_address_nobody_verified(downstream, upstream, app):
    """Pre-account takeover: a local account registered ahead with someone's address, never verified, is not
    where their first federated sign-in lands."""
    name = upstream_provider(downstream, upstream, "--link-verified-email")
    remote = upstream.create_user()
    verify_email(upstream, remote)
    downstream_user_with_email(downstream, remote.email)
    person = Person()
    login, _ = start_downstream_authorization(person, downstream, app, secrets.token_urlsafe(48))
    assert "No account here is linked" in refusal(through_provider(person, login, name, remote, upstream))


@pytest.mark.parametrize("local_part, upstream_part", [("kate", "\u212aate"), ("strasse", "straße"),
                                                       ("mail", "ｍａｉｌ")], ids=["kelvin_sign", "sharp_s", "fullwidth"])
def test_a_verified_email_links_only_to_the_same_address_not_one_that_folds_to_it(downstream, stub, app,
                                                                                   local_part, upstream_part):
    """Account takeover by Unicode folding: ``straße@`` (or ``\u212aate@``, Kelvin sign) is another mailbox than
    ``strasse@`` (RFC 6531 §3.2: a UTF-8 local part is the mailbox's own), and ``faß.example`` another domain than
    ``fass.example`` (IDNA 2008, RFC 5892): an upstream verifying the one vouches nothing for the other, even though
    sign-in names compare NFKC-folded. Only the same address (ASCII letters in any case) links."""
    domain = unique("corp") + ".example"
    victim = downstream_user_with_email(downstream, f"{local_part}@{domain}")
    verify_email(downstream, victim)
    name = add_provider(downstream, stub.issuer, "downstream-at-stub", "stub-secret", "--link-verified-email")
    stub.claims = {"sub": unique("attacker"), "email": f"{upstream_part}@{domain}", "email_verified": True}
    try:
        person = Person()
        login, _ = start_downstream_authorization(person, downstream, app, secrets.token_urlsafe(48))
        page = person.follow(person.get(person.press(login, f"Sign in with {name}").headers["Location"]))
    finally:
        stub.claims = {}
    assert "No account here is linked" in refusal(page)
    assert "authgate_session" not in page.cookies


def test_a_verified_email_in_other_ascii_case_still_links(downstream, stub, app):
    """The control: the same address with its ASCII letters in another case is the same account's."""
    domain = unique("corp") + ".example"
    local = downstream_user_with_email(downstream, f"Grace.Hopper@{domain}")
    verify_email(downstream, local)
    name = add_provider(downstream, stub.issuer, "downstream-at-stub", "stub-secret", "--link-verified-email")
    stub.claims = {"sub": unique("grace"), "email": f"grace.hopper@{domain.upper()}", "email_verified": True}
    try:
        person, verifier = Person(), secrets.token_urlsafe(48)
        login, params = start_downstream_authorization(person, downstream, app, verifier)
        page = person.follow(person.get(person.press(login, f"Sign in with {name}").headers["Location"]))
        tokens = finish_downstream(person, downstream, app, params, page, verifier)
    finally:
        stub.claims = {}
    assert me(downstream, tokens["access_token"])["username"] == local.username


def test_an_inactive_linked_user_is_refused(downstream, upstream, app):
    name = upstream_provider(downstream, upstream, "--jit")
    remote = upstream.create_user()
    person = Person()
    login, params = start_downstream_authorization(person, downstream, app, "v" * 50)
    tokens = finish_downstream(person, downstream, app, params, through_provider(person, login, name, remote, upstream),
                               "v" * 50)
    api_for(downstream, "admin").ok("PUT", f"/users/{me(downstream, tokens['access_token'])['id']}",
                                    json={"status": "INACTIVE"})
    person = Person()
    login, _ = start_downstream_authorization(person, downstream, app, secrets.token_urlsafe(48))
    assert refusal(through_provider(person, login, name, remote, upstream)) == "Your account here is deactivated."


def test_the_upstreams_error_is_shown_plainly(downstream, upstream, app):
    """RFC 6749 §4.1.2.1: the person cancels at the upstream's consent page; the downstream says what it answered."""
    name = upstream_provider(downstream, upstream, "--jit")
    person = Person()
    login, _ = start_downstream_authorization(person, downstream, app, secrets.token_urlsafe(48))
    upstream_login = person.follow(person.follow(person.press(login, f"Sign in with {name}")))
    consent = person.follow(person.press(upstream_login, "Sign in", username=(u := upstream.create_user()).username,
                                         password=u.password))
    cancelled = person.press(consent, "Cancel")
    assert cancelled.status_code == 302
    message = refusal(person.follow(cancelled))
    assert message.startswith(f"Signing in with {name} did not work: it answered access_denied")


def test_a_callback_opened_in_another_browser_signs_nobody_in_rfc9700_4_7(downstream, upstream, app):
    """Login CSRF: the callback URL of someone's round trip, opened by another browser, is refused."""
    name = upstream_provider(downstream, upstream, "--jit")
    attacker = Person()
    login, _ = start_downstream_authorization(attacker, downstream, app, secrets.token_urlsafe(48))
    upstream_login = attacker.follow(attacker.follow(attacker.press(login, f"Sign in with {name}")))
    back = attacker.sign_in_upstream(upstream_login, upstream.create_user())
    victim = Person()
    page = victim.get(back.headers["Location"])
    assert "does not belong to a sign-in started in this browser" in refusal(page)
    assert "authgate_session" not in page.cookies


# -- refusals, against an upstream the test controls -------------------------------------------------------------


@pytest.fixture(scope="module")
def stub_provider(downstream, stub):
    return add_provider(downstream, stub.issuer, "downstream-at-stub", "stub-secret", "--jit")


def stub_sign_in(downstream, stub, name: str, app) -> requests.Response:
    person = Person()
    login, _ = start_downstream_authorization(person, downstream, app, secrets.token_urlsafe(48))
    to_stub = person.press(login, f"Sign in with {name}")
    assert to_stub.status_code == 303, to_stub.text[:500]
    back = person.get(to_stub.headers["Location"])
    return person.follow(back)


@pytest.fixture
def fault(stub):
    yield stub
    stub.fault = None


def test_the_stub_provider_signs_in_when_nothing_is_wrong(downstream, stub, stub_provider, app, fault):
    """The control for the refusals below: the same peer, nothing wrong, signs in (and authenticated with
    client_secret_basic, RFC 6749 §2.3.1)."""
    answer = stub_sign_in(downstream, stub, stub_provider, app)
    assert answer.status_code == 303 and answer.headers["Location"].startswith("/oauth/authorize?"), answer.text[:500]
    assert stub.token_requests[-1]["authorization"].startswith("Basic ")
    assert stub.token_requests[-1]["code_verifier"]


@pytest.mark.parametrize("what, expected", [
    ("iss", "its ID token was refused"),
    ("iss_parameter", "another issuer than the provider's (RFC 9207 iss mismatch)"),
    ("nonce", "its ID token was refused"),
    ("expired", "it has expired (exp)"),
    ("unknown_key", "signature does not verify with its published keys"),
    ("no_iss_parameter", "lacks the iss parameter its provider promises (RFC 9207)"),
    ("token_not_json", "its token endpoint could not be reached"),
    ("no_id_token", "its token endpoint answered without an ID token"),
], ids=["wrong_iss_core_3_1_3_7", "wrong_iss_parameter_rfc9207_2_4", "bad_nonce_core_3_1_3_7",
        "expired_core_3_1_3_7", "unknown_key_core_3_1_3_7", "promised_iss_missing_rfc9207_2_4",
        "token_response_not_json_rfc6749_5_1", "no_id_token_core_3_1_3_3"])
def test_a_wrong_answer_from_the_upstream_is_refused(downstream, stub, stub_provider, app, fault, what, expected):
    stub.fault = what
    page = stub_sign_in(downstream, stub, stub_provider, app)
    message = refusal(page)
    assert message.startswith(f"Signing in with {stub_provider} did not work") and expected in message, message
    assert "authgate_session" not in page.cookies


def test_the_same_sub_at_two_providers_is_two_people_core_2(downstream, stub, app, fault):
    """OpenID Connect Core 1.0 §2: ``sub`` is unique only within its issuer; a link is keyed by provider and ``sub``,
    so a second provider answering with someone's ``sub`` signs in as nobody of the first."""
    first = add_provider(downstream, stub.issuer, "downstream-at-stub", "stub-secret", "--jit")
    second = add_provider(downstream, stub.issuer, "second-at-stub", "stub-secret", "--jit")
    shared, signed_in = unique("sub"), []
    for name in (first, second):
        who = unique("same-sub")
        stub.claims = {"sub": shared, "email": f"{who}@example.org", "preferred_username": who}
        try:
            person, verifier = Person(), secrets.token_urlsafe(48)
            login, params = start_downstream_authorization(person, downstream, app, verifier)
            page = person.follow(person.get(person.press(login, f"Sign in with {name}").headers["Location"]))
            signed_in.append(me(downstream, finish_downstream(person, downstream, app, params, page,
                                                              verifier)["access_token"])["username"])
        finally:
            stub.claims = {}
        assert signed_in[-1] == who
    assert signed_in[0] != signed_in[1]


def test_an_id_token_amr_of_other_things_than_names_is_no_500_rfc8176_2(downstream, stub, stub_provider, app, fault):
    """``amr`` members that are lists or objects are no method names (RFC 8176 §2: strings): left out, and the
    registered ``otp`` among them kept; no 500."""
    who = unique("odd-amr")
    stub.claims = {"sub": who, "email": f"{who}@example.org", "preferred_username": who,
                   "amr": [["pwd"], {"mfa": True}, "otp"]}
    try:
        answer = stub_sign_in(downstream, stub, stub_provider, app)
    finally:
        stub.claims = {}
    assert answer.status_code == 303 and answer.headers["Location"].startswith("/oauth/authorize?"), answer.text[:500]


def test_a_provider_is_no_way_around_the_second_factor_policy(downstream, upstream, app):
    """An administrator the policy requires a second factor of, signing in through a provider that reported no
    mfa, goes on to set one up (the enrolment page), exactly as after a password; no session yet."""
    name = upstream_provider(downstream, upstream, "--link-verified-email")
    remote = upstream.create_user()
    verify_email(upstream, remote)
    local = downstream_user_with_email(downstream, remote.email, "--admin")
    verify_email(downstream, local)
    downstream.commands.run_json("policy", "second-factor", "--require", "administrators")
    try:
        person = Person()
        login, _ = start_downstream_authorization(person, downstream, app, secrets.token_urlsafe(48))
        answer = through_provider(person, login, name, remote, upstream)
        assert answer.status_code == 303 and answer.headers["Location"].startswith("/login/enrol?next=%2Foauth%2Fauthorize")
        assert "authgate_session" not in answer.cookies and "authgate_pending" in answer.cookies
    finally:
        downstream.commands.run_json("policy", "second-factor", "--require", "off")


# -- the same sign-in in headless Chromium -------------------------------------------------------------------------

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"{CHROMIUM} is missing (apt-get install chromium)")
def test_a_person_in_chromium_signs_in_through_the_upstream_and_authorizes_a_downstream_client(downstream, upstream):
    """Clicking "Sign in with NAME", the upstream's sign-in and consent pages, then the downstream's consent page:
    the downstream client gets a code whose tokens work on the API, with fed in amr."""
    from playwright.sync_api import expect, sync_playwright

    name = upstream_provider(downstream, upstream, "--jit")
    remote = upstream.create_user()
    redirect_uri = downstream.url("/oauth/code")
    client = downstream.create_client(redirect_uris=[redirect_uri], grants=["authorization_code"],
                                      scopes=["openid", "users:read"])
    params = {"response_type": "code", "client_id": client.client_id, "redirect_uri": redirect_uri,
              "scope": "openid users:read", "state": unique("st")}
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            person = chromium.new_context(viewport={"width": 1000, "height": 720}).new_page()
            person.set_default_timeout(20_000)
            person.goto(downstream.url("/oauth/authorize?" + urlencode(params)))
            person.get_by_role("button", name=f"Sign in with {name}").click()
            person.wait_for_url(upstream.issuer + "/login**")
            person.get_by_label("Username or email").fill(remote.username)
            person.get_by_label("Password").fill(remote.password)
            person.get_by_role("button", name="Sign in", exact=True).click()
            person.get_by_role("button", name="Authorize").click()  # the upstream's consent: authgate downstream
            person.wait_for_url(downstream.issuer + "/oauth/authorize**")
            expect(person.get_by_text("is requesting permission to access your account")).to_be_visible()
            person.get_by_role("button", name="Authorize").click()  # the downstream's consent: its own client
            person.wait_for_url("**/oauth/code?**")
            code = query_params(person.url)["code"]
        finally:
            chromium.close()
    tokens = requests.post(downstream.url("/oauth/token"), data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri}, auth=client.basic,
        timeout=HTTP_TIMEOUT)
    assert tokens.status_code == 200, tokens.text
    assert me(downstream, tokens.json()["access_token"])["username"] == remote.username
    assert "fed" in jwt_parts(tokens.json()["access_token"])[1]["amr"]
