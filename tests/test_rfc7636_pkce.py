"""PKCE (RFC 7636 §4.3-4.6): S256 required for public clients, optional for
confidential ones, `plain` refused, and the code_verifier checked at the token
endpoint (wrong or missing verifier -> invalid_grant).
"""

from __future__ import annotations

import pytest

from support import (
    Browser,
    assert_token_error,
    authorization_params,
    exchange_code,
    get_code,
    pkce_pair,
    query_params,
    token_request,
    unique,
    users_me,
    without_query,
)

# RFC 7636 Appendix B
RFC_VERIFIER = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
RFC_CHALLENGE = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"


@pytest.fixture(scope="module")
def user(server):
    return server.create_user()


@pytest.fixture(scope="module")
def public_app(server):
    return server.create_client(public=True, redirect_uris=[f"https://{unique('spa')}.example.org/cb"])


@pytest.fixture(scope="module")
def confidential_app(server):
    return server.create_client(redirect_uris=[f"https://{unique('srv')}.example.org/cb"])


@pytest.fixture
def signed_in(server, user) -> Browser:
    b = Browser(server)
    b.login(user)
    return b


def test_public_client_has_no_secret(public_app):
    assert public_app.client_secret is None
    assert public_app.data["public"] is True


def test_helper_matches_rfc7636_appendix_b():
    assert pkce_pair(RFC_VERIFIER) == (RFC_VERIFIER, RFC_CHALLENGE)


def test_public_client_with_s256_rfc7636_4_3_and_4_5(server, public_app, user):
    """The RFC's own example pair; token request with client_id only and the verifier."""
    code = get_code(server, public_app, user, challenge=RFC_CHALLENGE)
    resp = exchange_code(server, public_app, code, verifier=RFC_VERIFIER)
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert users_me(server, body["access_token"]).json()["username"] == user.username


def test_public_client_without_pkce_is_refused_rfc7636_4_4_1(public_app, signed_in):
    p = authorization_params(public_app)
    resp = signed_in.open_authorize(p)
    assert resp.status_code == 302, resp.text[:300]
    location = resp.headers["Location"]
    assert without_query(location) == public_app.redirect_uri
    q = query_params(location)
    assert q.get("error") == "invalid_request"
    assert q.get("state") == p["state"]
    assert "code" not in q


@pytest.mark.parametrize("app_name", ["public_app", "confidential_app"])
def test_plain_method_is_refused_rfc7636_4_4_1(request, signed_in, app_name):
    """Only S256 is accepted (RFC 7636 §4.2 / §7.2: plain is not to be used)."""
    app = request.getfixturevalue(app_name)
    verifier, _ = pkce_pair()
    p = authorization_params(app, code_challenge=verifier, code_challenge_method="plain")
    resp = signed_in.open_authorize(p)
    assert resp.status_code == 302, resp.text[:300]
    q = query_params(resp.headers["Location"])
    assert without_query(resp.headers["Location"]) == app.redirect_uri
    assert q.get("error") == "invalid_request"
    assert q.get("state") == p["state"]


def test_unknown_method_is_refused_rfc7636_4_4_1(public_app, signed_in):
    _, challenge = pkce_pair()
    p = authorization_params(public_app, code_challenge=challenge, code_challenge_method="S512")
    resp = signed_in.open_authorize(p)
    assert resp.status_code == 302
    assert query_params(resp.headers["Location"]).get("error") == "invalid_request"


def test_wrong_verifier_is_invalid_grant_rfc7636_4_6(server, public_app, user):
    verifier, challenge = pkce_pair()
    code = get_code(server, public_app, user, challenge=challenge)
    other_verifier, _ = pkce_pair()
    assert_token_error(exchange_code(server, public_app, code, verifier=other_verifier), "invalid_grant")


def test_challenge_as_verifier_is_invalid_grant_rfc7636_4_6(server, public_app, user):
    """Presenting the challenge itself (what `plain` would accept) fails."""
    verifier, challenge = pkce_pair()
    code = get_code(server, public_app, user, challenge=challenge)
    assert_token_error(exchange_code(server, public_app, code, verifier=challenge), "invalid_grant")


def test_missing_verifier_is_refused_rfc7636_4_6(server, public_app, user):
    verifier, challenge = pkce_pair()
    code = get_code(server, public_app, user, challenge=challenge)
    assert_token_error(exchange_code(server, public_app, code), {"invalid_grant", "invalid_request"})


def test_public_client_code_bound_to_client_id_rfc6749_4_1_3(server, public_app, user, make_client):
    other = make_client(public=True, redirect_uris=public_app.redirect_uris)
    verifier, challenge = pkce_pair()
    code = get_code(server, public_app, user, challenge=challenge)
    assert_token_error(exchange_code(server, other, code, verifier=verifier), "invalid_grant")


def test_public_client_unknown_client_id_is_invalid_client_rfc6749_5_2(server, public_app, user):
    verifier, challenge = pkce_pair()
    code = get_code(server, public_app, user, challenge=challenge)
    resp = token_request(server, {"grant_type": "authorization_code", "code": code, "code_verifier": verifier,
                                  "redirect_uri": public_app.redirect_uri, "client_id": "no-such-client"})
    assert_token_error(resp, "invalid_client", status=401)


def test_confidential_client_without_pkce_works_rfc7636_4_4(server, confidential_app, user):
    code = get_code(server, confidential_app, user)
    assert exchange_code(server, confidential_app, code).status_code == 200


def test_confidential_client_with_s256_works_rfc7636_4_5(server, confidential_app, user):
    verifier, challenge = pkce_pair()
    code = get_code(server, confidential_app, user, challenge=challenge)
    assert exchange_code(server, confidential_app, code, verifier=verifier).status_code == 200


def test_confidential_client_with_pkce_checks_verifier_rfc7636_4_6(server, confidential_app, user):
    verifier, challenge = pkce_pair()
    code = get_code(server, confidential_app, user, challenge=challenge)
    assert_token_error(exchange_code(server, confidential_app, code, verifier=pkce_pair()[0]), "invalid_grant")
    code = get_code(server, confidential_app, user, challenge=challenge)
    assert_token_error(exchange_code(server, confidential_app, code), {"invalid_grant", "invalid_request"})



def test_too_short_verifier_is_refused_rfc7636_4_1(server, public_app, user):
    """§4.1: a code_verifier has 43 to 128 characters; a 42-character one whose
    S256 hash matches the challenge is still refused."""
    verifier, challenge = pkce_pair("a" * 42)
    code = get_code(server, public_app, user, challenge=challenge)
    assert_token_error(exchange_code(server, public_app, code, verifier=verifier), {"invalid_request", "invalid_grant"})
