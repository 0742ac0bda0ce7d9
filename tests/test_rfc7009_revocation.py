"""Token revocation (RFC 7009): §2.1 the request (client authentication, which
tokens a client may revoke, refresh token revocation taking the grant's access
tokens with it, the hint honoured but not trusted), §2.2 the response (200 for
unknown tokens), §2.2.1 errors; personal access tokens by their owner's client.
"""

from __future__ import annotations

import pytest
import requests

from support import (
    assert_no_store,
    assert_token_error,
    code_flow_tokens,
    password_grant,
    pkce_pair,
    refresh,
    revoke,
    token_request,
    unique,
    users_me,
    exchange_code,
    get_code,
)


@pytest.fixture(scope="module")
def user(server):
    return server.create_user()


@pytest.fixture(scope="module")
def app(server):
    return server.create_client(redirect_uris=[f"https://{unique('rv')}.example.org/cb"])


@pytest.fixture(scope="module")
def other_app(server):
    return server.create_client(grants=["password"])


def tokens(server, app, user):
    resp = password_grant(server, app, user, scope="users:read")
    assert resp.status_code == 200, resp.text
    return resp.json()


def assert_revoked_ok(resp):
    assert resp.status_code == 200, resp.text
    assert resp.headers["Content-Type"].startswith("application/json")


def test_revoking_an_access_token_rfc7009_2_1(server, app, user):
    t = tokens(server, app, user)
    assert users_me(server, t["access_token"]).status_code == 200
    resp = revoke(server, app, t["access_token"], token_type_hint="access_token")
    assert_revoked_ok(resp)
    assert_no_store(resp)
    assert users_me(server, t["access_token"]).status_code == 401
    # only the access token: the grant's refresh token still works
    assert refresh(server, app, t["refresh_token"]).status_code == 200


def test_revoking_a_refresh_token_revokes_its_access_tokens_rfc7009_2_1(server, app, user):
    first = tokens(server, app, user)
    second = refresh(server, app, first["refresh_token"]).json()
    assert_revoked_ok(revoke(server, app, second["refresh_token"], token_type_hint="refresh_token"))
    assert_token_error(refresh(server, app, second["refresh_token"]), "invalid_grant")
    for t in (first, second):
        assert users_me(server, t["access_token"]).status_code == 401


def test_refresh_token_from_the_code_flow_rfc7009_2_1(server, app, user):
    t = code_flow_tokens(server, app, user)
    assert_revoked_ok(revoke(server, app, t["refresh_token"]))
    assert users_me(server, t["access_token"]).status_code == 401


def test_hint_is_honoured_but_not_trusted_rfc7009_2_1(server, app, user):
    t = tokens(server, app, user)
    assert_revoked_ok(revoke(server, app, t["access_token"], token_type_hint="refresh_token"))
    assert users_me(server, t["access_token"]).status_code == 401
    t = tokens(server, app, user)
    assert_revoked_ok(revoke(server, app, t["refresh_token"], token_type_hint="access_token"))
    assert_token_error(refresh(server, app, t["refresh_token"]), "invalid_grant")


@pytest.mark.parametrize("token", ["no-such-token", "agr_" + "x" * 43, "agp_" + "y" * 43, "a.b.c", "é" * 50])
def test_unknown_tokens_are_answered_200_rfc7009_2_2(server, app, token):
    assert_revoked_ok(revoke(server, app, token))


def test_revoking_twice_is_fine_rfc7009_2_2(server, app, user):
    t = tokens(server, app, user)
    assert_revoked_ok(revoke(server, app, t["refresh_token"]))
    assert_revoked_ok(revoke(server, app, t["refresh_token"]))


def test_unsupported_token_type_rfc7009_2_2_1(server, app, user):
    t = tokens(server, app, user)
    assert_token_error(revoke(server, app, t["access_token"], token_type_hint="id_token"), "unsupported_token_type")
    assert users_me(server, t["access_token"]).status_code == 200


def test_a_client_cannot_revoke_another_clients_token_rfc7009_2_1(server, app, other_app, user):
    t = tokens(server, app, user)
    for token in (t["access_token"], t["refresh_token"]):
        assert_token_error(revoke(server, other_app, token), "invalid_grant")
    assert users_me(server, t["access_token"]).status_code == 200
    assert refresh(server, app, t["refresh_token"]).status_code == 200


def test_client_authentication_is_required_rfc7009_2_1(server, app, user):
    t = tokens(server, app, user)
    url = server.url("/oauth/revoke")
    assert_token_error(requests.post(url, data={"token": t["access_token"]}), "invalid_client", 401)
    bad = requests.post(url, data={"token": t["access_token"]}, auth=(app.client_id, "wrong"))
    assert_token_error(bad, "invalid_client", 401)
    assert "WWW-Authenticate" in bad.headers
    by_body = requests.post(url, data={"token": t["access_token"], "client_id": app.client_id,
                                       "client_secret": app.client_secret})
    assert_revoked_ok(by_body)
    assert users_me(server, t["access_token"]).status_code == 401


def test_public_client_revokes_with_its_client_id_rfc7009_2_1(server, user):
    uri = f"https://{unique('pub')}.example.org/cb"
    public = server.create_client(redirect_uris=[uri], public=True)
    verifier, challenge = pkce_pair()
    code = get_code(server, public, user, challenge=challenge)
    t = exchange_code(server, public, code, verifier=verifier).json()
    assert_revoked_ok(revoke(server, public, t["refresh_token"]))
    assert users_me(server, t["access_token"]).status_code == 401


def test_malformed_requests_rfc7009_2_1(server, app, user):
    url = server.url("/oauth/revoke")
    assert_token_error(requests.post(url, data={}, auth=app.basic), "invalid_request")
    assert_token_error(requests.post(url, data=[("token", "a"), ("token", "b")], auth=app.basic), "invalid_request")
    assert_token_error(requests.post(url, data="{}", headers={"Content-Type": "application/json"}, auth=app.basic),
                       "invalid_request")
    assert_token_error(requests.get(url, auth=app.basic), "invalid_request", 405)


def test_personal_access_tokens_by_their_owners_client(server, user):
    owned = server.create_client(grants=["client_credentials"], owner=user.username)
    stranger = server.create_client(grants=["client_credentials"])
    pat = server.create_pat(user.username)["token"]
    assert_token_error(revoke(server, stranger, pat), "invalid_grant")
    assert users_me(server, pat).status_code == 200
    assert_revoked_ok(revoke(server, owned, pat))
    assert users_me(server, pat).status_code == 401


def test_client_credentials_token_rfc7009_2_1(server):
    machine = server.create_client(grants=["client_credentials"])
    t = token_request(server, {"grant_type": "client_credentials"}, auth=machine.basic).json()
    assert_revoked_ok(revoke(server, machine, t["access_token"]))
    assert users_me(server, t["access_token"]).status_code == 401
