"""Signing in through a plain OAuth 2.0 provider (issue 18), GitHub-style, and the claim and group mapping of
providers, end to end over real HTTP against a loopback peer (``support/oauth2_stub.py``; the OpenID Connect one,
``support/oidc_stub.py``, for the mapping of that kind).

The provider has no discovery and no ID token: authgate runs the code flow with PKCE and ``state`` (RFC 6749 §4.1,
RFC 7636) at the URLs the operator gave, reads the userinfo URL with the upstream access token, and maps GitHub's
``id`` and ``login`` to the subject and the username. The group mapping is applied at each sign-in: the user joins
the mapped groups the upstream lists and leaves the mapped ones it no longer lists, and no other group changes."""

from __future__ import annotations

import secrets
from urllib.parse import urlencode, urlsplit

import pytest
import requests

from support import HTTP_TIMEOUT, api_for, parse_page, pkce_pair, query_params, unique
from support.person import Person


@pytest.fixture(scope="module")
def downstream(server_factory):
    return server_factory()


@pytest.fixture(scope="module")
def app(downstream):
    """A client of authgate (its own application)."""
    return downstream.create_client(redirect_uris=["http://127.0.0.1:9/cb"], grants=["authorization_code"],
                                    scopes=["openid", "users:read"])


@pytest.fixture
def github(oauth2_stub):
    oauth2_stub.user = {}
    yield oauth2_stub
    oauth2_stub.fault = None


def add_github(downstream, github, *flags: str) -> str:
    name = unique("github")
    data = downstream.commands.run_json(
        "providers", "add", "--kind", "oauth2", "--name", name, "--client-id", github.client_id,
        "--client-secret-stdin", "--authorization-url", github.authorization_url, "--token-url", github.token_url,
        "--userinfo-url", github.userinfo_url, "--scope", "read:user", "--claim", "subject=id",
        "--claim", "username=login", "--allow-private-network", "--jit", *flags, input=github.client_secret + "\n")
    assert data["kind"] == "oauth2" and data["scopes"] == ["read:user"]
    assert data["claims"] == {"subject": "id", "username": "login", **(
        {"groups": data["groups_claim"]} if data["groups_claim"] else {})}
    return name


def octocat(github, **extra) -> dict:
    login = unique("octo")
    github.user = {"id": secrets.randbelow(10**9) + 1, "login": login, "name": "Mona Octocat",
                   "email": f"{login}@example.org", **extra}
    return github.user


def start(person: Person, downstream, app) -> tuple[requests.Response, dict, str]:
    verifier = secrets.token_urlsafe(48)
    _, challenge = pkce_pair(verifier)
    params = {"response_type": "code", "client_id": app.client_id, "redirect_uri": app.redirect_uri,
              "scope": "openid users:read", "state": secrets.token_urlsafe(8), "code_challenge": challenge,
              "code_challenge_method": "S256"}
    login = person.follow(person.get(downstream.url("/oauth/authorize?" + urlencode(params))))
    assert login.status_code == 200 and urlsplit(login.url).path == "/login"
    return login, params, verifier


def through(person: Person, login: requests.Response, name: str) -> requests.Response:
    """Press "Sign in with NAME"; the provider answers at once (no page of its own); authgate's callback answer."""
    to_github = person.press(login, f"Sign in with {name}")
    assert to_github.status_code == 303, to_github.text[:500]
    return person.follow(person.follow(to_github))


def sign_in(downstream, app, name: str) -> tuple[Person, requests.Response, dict, str]:
    person = Person()
    login, params, verifier = start(person, downstream, app)
    return person, through(person, login, name), params, verifier


def refusal(page: requests.Response) -> str:
    assert page.status_code in (400, 502), f"{page.status_code} {page.text[:500]}"
    assert "authgate_session" not in page.cookies
    return parse_page(page.text).by_id["federation-error"]


def groups_of(downstream, username: str) -> list[str]:
    return downstream.commands.run_json("users", "show", username)["groups"]


def test_a_github_style_provider_signs_in_by_id_and_login_and_the_client_flow_completes(downstream, app, github):
    """RFC 6749 §4.1 with RFC 7636 PKCE: the request carries state and an S256 challenge and no nonce; the code is
    redeemed with the verifier; the userinfo's id is the subject and its login the username; the downstream
    client's own code flow then completes. The upstream access token is in no page, no log and no table."""
    name = add_github(downstream, github)
    person = Person()
    login, params, verifier = start(person, downstream, app)
    to_github = person.press(login, f"Sign in with {name}")
    sent = query_params(to_github.headers["Location"])
    assert to_github.headers["Location"].startswith(github.authorization_url + "?")
    assert sent["state"] and sent["code_challenge_method"] == "S256" and "nonce" not in sent
    assert sent["scope"] == "read:user" and sent["client_id"] == github.client_id
    someone = octocat(github)
    back = person.follow(person.follow(to_github))
    assert back.status_code == 303 and back.headers["Location"].startswith("/oauth/authorize?"), back.text[:500]
    assert github.token_requests[-1]["code_verifier"] and github.token_requests[-1]["client_secret"]

    consent = person.follow(back)
    if consent.status_code == 200:
        consent = person.press(consent, "Authorize")
    answer = query_params(consent.headers["Location"])
    assert answer["state"] == params["state"]
    tokens = requests.post(downstream.url("/oauth/token"), data={
        "grant_type": "authorization_code", "code": answer["code"], "redirect_uri": app.redirect_uri,
        "code_verifier": verifier}, auth=app.basic, timeout=HTTP_TIMEOUT)
    assert tokens.status_code == 200, tokens.text
    me = requests.get(downstream.url("/api/1.0/users/me"),
                      headers={"Authorization": f"Bearer {tokens.json()['access_token']}"}, timeout=HTTP_TIMEOUT)
    assert me.status_code == 200 and me.json()["username"] == someone["login"], me.text
    assert me.json()["firstname"] == "Mona" and me.json()["lastname"] == "Octocat"

    again = Person()
    login, _, _ = start(again, downstream, app)
    github.user = {**someone, "login": "renamed-" + someone["login"]}  # the same id: the same, linked, account
    assert through(again, login, name).status_code == 303
    assert not downstream.commands.run_json("users", "list", "--filter", "renamed-" + someone["login"])["users"]

    issued = list(github.tokens)
    assert issued
    seen = downstream.db.dump_text() + downstream.stderr_text() + downstream.stdout_text() + back.text + consent.text
    assert not [token for token in issued if token in seen]


def test_the_upstream_groups_are_joined_and_left_at_each_sign_in_and_other_groups_stay(downstream, app, github):
    """The mapping manages only the groups it names: a mapped group the upstream stops listing is left on the next
    sign-in, one it starts listing is joined, and a group the user was put in by hand is never touched."""
    engineering, operations, by_hand = (unique(n) for n in ("eng", "ops", "hand"))
    for group in (engineering, operations, by_hand):
        downstream.commands.run_json("groups", "create", group)
    name = add_github(downstream, github, "--groups-claim", "teams", "--map-group", f"acme/eng={engineering}",
                      "--map-group", f"cn=ops,ou=teams={operations}")
    shown = downstream.cli("providers", "show", name)
    assert f"acme/eng -> {engineering}" in shown.stdout and f"cn=ops,ou=teams -> {operations}" in shown.stdout
    assert "Groups claim: teams" in shown.stdout and "Userinfo URL: " + github.userinfo_url in shown.stdout

    someone = octocat(github, teams=["acme/eng", "acme/unmapped"])
    _, back, _, _ = sign_in(downstream, app, name)
    assert back.status_code == 303, back.text[:500]
    username = someone["login"]
    assert groups_of(downstream, username) == [engineering]
    downstream.commands.run_json("groups", "add-member", by_hand, username)

    github.user = {**someone, "teams": ["cn=ops,ou=teams"]}
    assert sign_in(downstream, app, name)[1].status_code == 303
    assert sorted(groups_of(downstream, username)) == sorted([operations, by_hand])

    github.user = {**someone, "teams": []}
    assert sign_in(downstream, app, name)[1].status_code == 303
    assert groups_of(downstream, username) == [by_hand]

    github.user = {key: value for key, value in someone.items() if key != "teams"}  # says nothing: nothing changes
    downstream.commands.run_json("groups", "add-member", operations, username)
    assert sign_in(downstream, app, name)[1].status_code == 303
    assert sorted(groups_of(downstream, username)) == sorted([operations, by_hand])

    admin = api_for(downstream, "admin", scopes=["security_logs:read"])
    logged = admin.get("/security_logs", params={"per_page": 100, "order_direction": "desc",
                                                 "filter": "federation.group"})
    assert logged.status_code == 200, logged.text
    events = [(e["event"], e["details"].get("group")) for e in logged.json()["data"] if e["subject"] == username]
    assert events == [("federation.group_left", operations), ("federation.group_joined", operations),
                      ("federation.group_left", engineering), ("federation.group_joined", engineering)]


def test_the_claim_and_group_mapping_apply_to_an_openid_connect_provider_too(downstream, app, stub):
    """OpenID Connect Core §5.1's claims by other names: the username from ``nickname``, the groups from a nested
    ``realm_access.roles`` (as Keycloak puts them)."""
    group = unique("admins")
    downstream.commands.run_json("groups", "create", group)
    name = unique("oidc")
    downstream.commands.run_json(
        "providers", "add", "--name", name, "--issuer", stub.issuer, "--client-id", "mapped-at-stub",
        "--client-secret-stdin", "--allow-private-network", "--jit", "--claim", "username=nickname",
        "--groups-claim", "realm_access.roles", "--map-group", f"realm-admin={group}", input="stub-secret\n")
    someone = unique("kc")
    stub.claims = {"sub": someone, "email": f"{someone}@example.org", "nickname": f"nick-{someone}",
                   "realm_access": {"roles": ["realm-admin", "offline_access"]}}
    try:
        _, back, _, _ = sign_in(downstream, app, name)
    finally:
        stub.claims = {}
    assert back.status_code == 303, back.text[:500]
    assert groups_of(downstream, f"nick-{someone}") == [group]


def test_an_answer_whose_state_is_not_the_one_sent_signs_nobody_in_rfc6749_10_12(downstream, app, github):
    name = add_github(downstream, github)
    octocat(github)
    github.fault = "state"
    message = refusal(sign_in(downstream, app, name)[1])
    assert "does not belong to a sign-in started in this browser" in message


def test_the_upstreams_error_is_shown_plainly_rfc6749_4_1_2_1(downstream, app, github):
    name = add_github(downstream, github)
    github.fault = "error"
    message = refusal(sign_in(downstream, app, name)[1])
    assert message.startswith(f"Signing in with {name} did not work: it answered access_denied: The user has "
                              "denied your application access"), message


def test_a_code_the_token_url_refuses_with_http_200_is_refused(downstream, app, github):
    """GitHub answers a bad code with HTTP 200 and an error member: that is a refusal, not a token."""
    name = add_github(downstream, github)
    octocat(github)
    github.fault = "token"
    message = refusal(sign_in(downstream, app, name)[1])
    assert message.startswith(f"Signing in with {name} did not work: its token endpoint refused the code: "
                              "bad_verification_code"), message


def test_a_userinfo_url_that_refuses_the_access_token_signs_nobody_in(downstream, app, github):
    name = add_github(downstream, github)
    octocat(github)
    github.fault = "userinfo"
    message = refusal(sign_in(downstream, app, name)[1])
    assert message == f"Signing in with {name} did not work: its userinfo URL refused the access token (HTTP 401).", \
        message
    assert github.userinfo_requests[-1].startswith("Bearer gho_")


def test_a_userinfo_without_the_mapped_subject_signs_nobody_in(downstream, app, github):
    name = add_github(downstream, github)
    github.user = {"login": unique("noid"), "email": "noid@example.org"}
    message = refusal(sign_in(downstream, app, name)[1])
    assert "its answer has no subject of 1 to 255 characters (claim id)" in message, message


def test_the_same_callback_twice_signs_in_once_rfc6749_10_5(downstream, app, github):
    """A replayed callback (the very request again, its round trip's cookie included, as from a proxy's log or a
    browser's history): the round trip is taken once, so the second is refused and starts no session."""
    name = add_github(downstream, github)
    octocat(github)
    person = Person()
    login, _, _ = start(person, downstream, app)
    to_github = person.press(login, f"Sign in with {name}")
    callback = person.get(to_github.headers["Location"])
    assert callback.status_code == 302
    url, cookies = callback.headers["Location"], person.http.cookies.copy()
    first = requests.get(url, cookies=cookies, allow_redirects=False, timeout=HTTP_TIMEOUT)
    assert first.status_code == 303 and "authgate_session" in first.cookies, first.text[:300]
    again = requests.get(url, cookies=cookies, allow_redirects=False, timeout=HTTP_TIMEOUT)
    assert "was already used" in refusal(again)


def test_an_amr_in_a_userinfo_answer_is_no_way_around_the_second_factor_policy(downstream, app, github):
    """``amr`` is what an OpenID Provider states in an ID token about how it authenticated the person (OpenID
    Connect Core 1.0 §2, RFC 8176); a plain OAuth 2.0 userinfo answer is a profile, and an ``mfa`` in it (a field
    the upstream, or its user, put there) must not stand for a second factor here."""
    name = add_github(downstream, github)
    octocat(github, amr=["mfa", "otp"])
    downstream.commands.run_json("policy", "second-factor", "--require", "everyone")
    try:
        back = sign_in(downstream, app, name)[1]
    finally:
        downstream.commands.run_json("policy", "second-factor", "--require", "off")
    assert back.status_code == 303 and urlsplit(back.headers["Location"]).path == "/login/enrol", back.text[:300]
    assert "authgate_session" not in back.cookies and "authgate_pending" in back.cookies
