"""The token endpoint (RFC 6749 §3.2, §2.3.1, §4.1.3, §4.3, §4.4, §5.1, §5.2,
§10.5): client authentication (Basic, body, secret alone, public clients),
form bodies without Content-Type, repeated parameters, error codes, grant
permissions per client and any combination of grants, scopes and the
client's default scope, and the authorization code rules (single use with
revocation of what it issued, bound to client and redirect_uri, expiry).
"""

from __future__ import annotations

import time
from urllib.parse import urlencode

import pytest
import requests

from support import (
    SHORT_TTL,
    Browser,
    assert_no_store,
    assert_token_error,
    exchange_code,
    get_code,
    password_grant,
    query_params,
    refresh,
    token_request,
    unique,
    users_me,
)


@pytest.fixture(scope="module")
def user(server):
    return server.create_user()


@pytest.fixture(scope="module")
def webapp(server):
    """Confidential client with the default grants and two redirect URIs."""
    return server.create_client(
        redirect_uris=[f"https://{unique('web')}.example.org/cb", f"https://{unique('web2')}.example.org/cb"]
    )


def assert_token_response(resp, expect_refresh: bool) -> dict:
    """RFC 6749 §5.1 successful response."""
    assert resp.status_code == 200, resp.text
    assert resp.headers.get("Content-Type", "").startswith("application/json")
    assert_no_store(resp)
    body = resp.json()
    assert isinstance(body["access_token"], str) and body["access_token"]
    assert body["token_type"] == "Bearer"
    assert isinstance(body["expires_in"], int) and body["expires_in"] > 0
    assert isinstance(body["scope"], str) and body["scope"]
    if expect_refresh:
        assert isinstance(body.get("refresh_token"), str) and body["refresh_token"]
    else:
        assert "refresh_token" not in body or body["refresh_token"] is None
    return body


# ---- authorization code grant (§4.1.3) ------------------------------------------------


def test_authorization_code_exchange_rfc6749_4_1_3(server, webapp, user):
    code = get_code(server, webapp, user, scope="users:read")
    body = assert_token_response(exchange_code(server, webapp, code), expect_refresh=True)
    assert body["scope"].split() == ["users:read"]
    me = users_me(server, body["access_token"])
    assert me.status_code == 200
    assert me.json()["username"] == user.username


def test_authorization_code_client_credentials_in_body_rfc6749_2_3_1(server, webapp, user):
    code = get_code(server, webapp, user)
    assert_token_response(exchange_code(server, webapp, code, basic=False), expect_refresh=True)


def test_authorization_code_is_single_use_and_reuse_revokes_tokens_rfc6749_4_1_2_and_10_5(server, webapp, user):
    code = get_code(server, webapp, user)
    first = assert_token_response(exchange_code(server, webapp, code), expect_refresh=True)
    assert users_me(server, first["access_token"]).status_code == 200

    second = exchange_code(server, webapp, code)
    assert_token_error(second, "invalid_grant")
    assert_no_store(second)

    # everything issued from that code is revoked
    me = users_me(server, first["access_token"])
    assert me.status_code == 401
    assert_token_error(refresh(server, webapp, first["refresh_token"]), "invalid_grant")


def test_code_reuse_also_revokes_tokens_refreshed_from_it_rfc6749_4_1_2(server, webapp, user):
    """"all tokens previously issued based on that authorization code" includes refreshed ones."""
    code = get_code(server, webapp, user)
    first = assert_token_response(exchange_code(server, webapp, code), expect_refresh=True)
    second = refresh(server, webapp, first["refresh_token"])
    assert second.status_code == 200, second.text
    second = second.json()
    assert users_me(server, second["access_token"]).status_code == 200

    assert_token_error(exchange_code(server, webapp, code), "invalid_grant")

    assert users_me(server, second["access_token"]).status_code == 401
    assert_token_error(refresh(server, webapp, second["refresh_token"]), "invalid_grant")


def test_code_reuse_does_not_touch_other_grants_rfc6749_10_5(server, webapp, user):
    """Revocation on reuse is limited to the tokens of that one code."""
    other = assert_token_response(exchange_code(server, webapp, get_code(server, webapp, user)), True)
    code = get_code(server, webapp, user)
    assert_token_response(exchange_code(server, webapp, code), True)
    assert_token_error(exchange_code(server, webapp, code), "invalid_grant")
    assert users_me(server, other["access_token"]).status_code == 200


def test_code_bound_to_client_rfc6749_4_1_3(server, webapp, user, make_client):
    thief = make_client(redirect_uris=webapp.redirect_uris)
    code = get_code(server, webapp, user)
    assert_token_error(exchange_code(server, thief, code), "invalid_grant")


def test_code_bound_to_redirect_uri_rfc6749_4_1_3(server, webapp, user):
    code = get_code(server, webapp, user, redirect_uri=webapp.redirect_uris[0])
    assert_token_error(exchange_code(server, webapp, code, redirect_uri=webapp.redirect_uris[1]), "invalid_grant")


def test_code_requires_redirect_uri_when_it_was_in_the_request_rfc6749_4_1_3(server, webapp, user):
    code = get_code(server, webapp, user)
    resp = token_request(server, {"grant_type": "authorization_code", "code": code}, auth=webapp.basic)
    assert_token_error(resp, {"invalid_grant", "invalid_request"})


def test_unknown_code_is_invalid_grant_rfc6749_5_2(server, webapp):
    resp = exchange_code(server, webapp, "not-a-real-code-" + unique("c"))
    assert_token_error(resp, "invalid_grant")


def test_missing_code_is_invalid_request_rfc6749_4_1_3(server, webapp):
    resp = token_request(server, {"grant_type": "authorization_code", "redirect_uri": webapp.redirect_uri},
                         auth=webapp.basic)
    assert_token_error(resp, "invalid_request")


def test_authorization_code_expires_rfc6749_4_1_2(short_ttl_server):
    """Codes live AUTHGATE_AUTH_CODE_TTL seconds (SHORT_TTL on this server)."""
    srv = short_ttl_server
    user = srv.create_user()
    client = srv.create_client(redirect_uris=[f"https://{unique('ttl')}.example.org/cb"])
    browser = Browser(srv)
    # control: a fresh code is accepted
    fresh = get_code(srv, client, user, browser=browser)
    assert exchange_code(srv, client, fresh).status_code == 200
    # the same flow, but the code is presented too late
    stale = get_code(srv, client, user, browser=browser)
    time.sleep(SHORT_TTL + 1.5)
    assert_token_error(exchange_code(srv, client, stale), "invalid_grant")


# ---- password and client credentials grants (§4.3, §4.4) --------------------------------


def test_password_grant_rfc6749_4_3(server, webapp, user):
    body = assert_token_response(password_grant(server, webapp, user, scope="users:read"), expect_refresh=True)
    assert body["scope"].split() == ["users:read"]
    assert users_me(server, body["access_token"]).json()["username"] == user.username


def test_password_grant_wrong_password_is_invalid_grant_rfc6749_5_2(server, webapp, user):
    resp = token_request(server, {"grant_type": "password", "username": user.username, "password": "wrong-pw"},
                         auth=webapp.basic)
    assert_token_error(resp, "invalid_grant")
    assert_no_store(resp)


def test_password_grant_unknown_user_is_invalid_grant_rfc6749_5_2(server, webapp):
    resp = token_request(server, {"grant_type": "password", "username": unique("ghost"), "password": "x"},
                         auth=webapp.basic)
    assert_token_error(resp, "invalid_grant")


def test_client_credentials_grant_rfc6749_4_4(server, make_client):
    client = make_client(grants=["client_credentials"])
    resp = token_request(server, {"grant_type": "client_credentials"}, auth=client.basic)
    assert_token_response(resp, expect_refresh=False)  # §4.4.3: no refresh token


# ---- form body parsing, client authentication (§2.3.1, §3.2, §5.2) ----------------------


def test_token_endpoint_requires_post_rfc6749_3_2(server, webapp, user):
    """§3.2: the client MUST use HTTP POST; credentials in a GET query are not accepted."""
    params = {"grant_type": "password", "username": user.username, "password": user.password,
              "client_id": webapp.client_id, "client_secret": webapp.client_secret}
    resp = requests.get(server.url("/oauth/token"), params=params, timeout=15)
    assert resp.status_code in (400, 405), resp.status_code
    assert "access_token" not in resp.text


def test_form_body_without_content_type_is_parsed_rfc6749_3_2(server, webapp, user):
    body = urlencode({"grant_type": "password", "username": user.username, "password": user.password,
                      "client_id": webapp.client_id, "client_secret": webapp.client_secret})
    req = requests.Request("POST", server.url("/oauth/token"), data=body).prepare()
    assert "Content-Type" not in req.headers
    resp = requests.Session().send(req, timeout=15)
    assert_token_response(resp, expect_refresh=True)


def test_client_found_by_secret_alone_rfc6749_4_3(server, webapp, user):
    """The guide's password example sends client_secret without client_id."""
    resp = token_request(server, {"grant_type": "password", "username": user.username,
                                  "password": user.password, "client_secret": webapp.client_secret})
    body = assert_token_response(resp, expect_refresh=True)
    assert users_me(server, body["access_token"]).status_code == 200


def test_unknown_secret_alone_is_invalid_client_rfc6749_5_2(server, user):
    resp = token_request(server, {"grant_type": "password", "username": user.username,
                                  "password": user.password, "client_secret": "no-such-secret-" + unique("s")})
    assert_token_error(resp, "invalid_client", status=401)


def test_wrong_secret_with_basic_is_401_with_www_authenticate_rfc6749_5_2(server, webapp, user):
    resp = token_request(server, {"grant_type": "password", "username": user.username, "password": user.password},
                         auth=(webapp.client_id, "wrong-secret"))
    assert_token_error(resp, "invalid_client", status=401)
    assert resp.headers.get("WWW-Authenticate", "").split(" ")[0].lower() == "basic"
    assert_no_store(resp)


def test_wrong_secret_in_body_is_invalid_client_rfc6749_5_2(server, webapp, user):
    resp = token_request(server, {"grant_type": "password", "username": user.username, "password": user.password,
                                  "client_id": webapp.client_id, "client_secret": "wrong-secret"})
    assert_token_error(resp, "invalid_client", status=401)


def test_unknown_client_id_with_basic_is_invalid_client_rfc6749_5_2(server, user):
    resp = token_request(server, {"grant_type": "password", "username": user.username, "password": user.password},
                         auth=("no-such-client", "secret"))
    assert_token_error(resp, "invalid_client", status=401)
    assert resp.headers.get("WWW-Authenticate", "").lower().startswith("basic")


def test_confidential_client_without_secret_is_invalid_client_rfc6749_3_2_1(server, webapp, user):
    resp = token_request(server, {"grant_type": "password", "username": user.username, "password": user.password,
                                  "client_id": webapp.client_id})
    assert_token_error(resp, "invalid_client", status=401)


def test_no_client_authentication_at_all_is_invalid_client_rfc6749_3_2_1(server, user):
    resp = token_request(server, {"grant_type": "password", "username": user.username, "password": user.password})
    assert_token_error(resp, {"invalid_client", "invalid_request"}, status={400, 401})


@pytest.mark.parametrize("repeated", ["grant_type", "username", "password", "scope", "client_secret"])
def test_repeated_parameter_is_invalid_request_rfc6749_3_1(server, webapp, user, repeated):
    fields = [("grant_type", "password"), ("username", user.username), ("password", user.password),
              ("scope", "users:read"), ("client_id", webapp.client_id), ("client_secret", webapp.client_secret)]
    fields.append((repeated, dict(fields)[repeated]))  # same value twice: still forbidden
    resp = token_request(server, urlencode(fields), headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert_token_error(resp, "invalid_request")
    assert_no_store(resp)


# ---- grant types per client (§5.2) -------------------------------------------------------


@pytest.mark.parametrize("grant_type", ["urn:example:unknown", "implicit", "token"])
def test_unsupported_grant_type_rfc6749_5_2(server, webapp, grant_type):
    resp = token_request(server, {"grant_type": grant_type}, auth=webapp.basic)
    assert_token_error(resp, "unsupported_grant_type")
    assert_no_store(resp)


def test_missing_grant_type_is_invalid_request_rfc6749_5_2(server, webapp):
    """§5.2 invalid_request: the request is missing a required parameter."""
    resp = token_request(server, {"scope": "users:read"}, auth=webapp.basic)
    assert_token_error(resp, "invalid_request")
    assert_no_store(resp)


def test_client_lacking_password_grant_is_unauthorized_client_rfc6749_5_2(server, user, make_client):
    client = make_client(grants=["client_credentials"])
    assert_token_error(password_grant(server, client, user), "unauthorized_client")


def test_client_lacking_client_credentials_grant_is_unauthorized_client_rfc6749_5_2(server, webapp):
    """Default grants are authorization_code, password, refresh_token."""
    resp = token_request(server, {"grant_type": "client_credentials"}, auth=webapp.basic)
    assert_token_error(resp, "unauthorized_client")


def test_client_lacking_authorization_code_grant_rfc6749_5_2(server, user, make_client):
    """A password-only client can't use a code: refused at the authorization endpoint
    (unauthorized_client, §4.1.2.1)."""
    client = make_client(grants=["password"], redirect_uris=[f"https://{unique('pw')}.example.org/cb"])
    b = Browser(server)
    b.login(user)
    params = {"response_type": "code", "client_id": client.client_id, "redirect_uri": client.redirect_uri,
              "scope": "users:read", "state": "s1"}
    resp = b.open_authorize(params)
    assert resp.status_code == 302
    q = query_params(resp.headers["Location"])
    assert q.get("error") == "unauthorized_client" and q.get("state") == "s1"


def _try_grant(server, client, user, grant: str) -> requests.Response:
    if grant == "authorization_code":
        return exchange_code(server, client, get_code(server, client, user))
    if grant == "password":
        return password_grant(server, client, user)
    if grant == "client_credentials":
        return token_request(server, {"grant_type": "client_credentials"}, auth=client.basic)
    if grant == "refresh_token":
        first = password_grant(server, client, user)
        if first.status_code != 200:
            first = exchange_code(server, client, get_code(server, client, user))
        assert first.status_code == 200, first.text
        return refresh(server, client, first.json()["refresh_token"])
    raise AssertionError(grant)


ALL_GRANTS = ["authorization_code", "password", "client_credentials", "refresh_token"]


@pytest.mark.parametrize(
    "grants",
    [
        ["client_credentials", "password"],
        ["authorization_code", "client_credentials"],
        ["authorization_code", "password", "client_credentials", "refresh_token", "personal_access"],
        ["client_credentials"],
    ],
    ids=["cc+password", "code+cc", "all", "cc-only"],
)
def test_any_combination_of_grants_works_rfc6749_5_2(server, user, make_client, grants):
    """Every granted grant works, every other one is unauthorized_client; refresh_token
    is implied by authorization_code or password."""
    client = make_client(grants=grants, redirect_uris=[f"https://{unique('combo')}.example.org/cb"])
    effective = set(grants)
    if effective & {"authorization_code", "password"}:
        effective.add("refresh_token")
    for grant in ALL_GRANTS:
        if grant == "authorization_code" and grant not in effective:
            continue  # covered by test_client_lacking_authorization_code_grant
        if grant == "refresh_token" and not effective & {"authorization_code", "password"}:
            continue  # no way to get a refresh token to try
        resp = _try_grant(server, client, user, grant)
        if grant in effective:
            assert resp.status_code == 200, f"{grant} with grants {grants}: {resp.text}"
        else:
            assert_token_error(resp, "unauthorized_client")


def test_refresh_token_implied_by_password_grant_rfc6749_6(server, user, make_client):
    client = make_client(grants=["password"])
    resp = password_grant(server, client, user)
    body = assert_token_response(resp, expect_refresh=True)
    assert refresh(server, client, body["refresh_token"]).status_code == 200


# ---- scope (§3.3) --------------------------------------------------------------------------


@pytest.mark.parametrize("scope", ["users:write", "no-such-scope", "users:read bogus", "*"])
def test_scope_outside_clients_set_is_invalid_scope_rfc6749_5_2(server, user, make_client, scope):
    client = make_client(scopes=["users:read", "profile"])
    resp = password_grant(server, client, user, scope=scope)
    assert_token_error(resp, "invalid_scope")


def test_unknown_scope_is_invalid_scope_for_unrestricted_client_rfc6749_5_2(server, webapp, user):
    assert_token_error(password_grant(server, webapp, user, scope="no-such-scope"), "invalid_scope")


def test_scope_within_clients_set_is_granted_rfc6749_3_3(server, user, make_client):
    client = make_client(scopes=["users:read", "profile"])
    body = assert_token_response(password_grant(server, client, user, scope="profile users:read"), True)
    assert set(body["scope"].split()) == {"users:read", "profile"}


def test_no_scope_gives_the_default_star_rfc6749_3_3(server, webapp, user):
    """A client created without --scope has the default scope `*`."""
    body = assert_token_response(password_grant(server, webapp, user), True)
    assert body["scope"].split() == ["*"]
    assert users_me(server, body["access_token"]).status_code == 200


def test_no_scope_stays_within_restricted_clients_set_rfc6749_3_3(server, user, make_client):
    client = make_client(scopes=["users:read", "profile"])
    body = assert_token_response(password_grant(server, client, user), True)
    granted = set(body["scope"].split())
    assert granted and granted <= {"users:read", "profile"}


def test_no_scope_in_authorization_request_gives_default_rfc6749_3_3(server, webapp, user):
    code = get_code(server, webapp, user, scope=None)
    body = assert_token_response(exchange_code(server, webapp, code), True)
    assert body["scope"].split() == ["*"]


# ---- every response is no-store (§5.1, §5.2) ------------------------------------------------


def test_error_responses_are_json_and_no_store_rfc6749_5_2(server):
    resp = token_request(server, {"grant_type": "password"})
    assert resp.status_code in (400, 401)
    assert resp.headers.get("Content-Type", "").startswith("application/json")
    body = resp.json()
    assert isinstance(body.get("error"), str)
    assert "error_description" in body
    assert_no_store(resp)
