"""OpenID Connect Core 1.0 on the authorization code flow: §3.1.3.3 and
§3.1.3.7 the ID token (iss, sub, aud, exp, iat, auth_time, nonce, at_hash,
kid of a published key), §3.1.2.1 prompt / max_age / login_hint / nonce,
§5.3-§5.4 UserInfo (GET and POST, claims by scope), §11 offline_access; and
OpenID Connect Discovery 1.0 §3 (the provider metadata passes Authlib's validator).
"""

from __future__ import annotations

import base64
import hashlib
import time
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from authlib.oidc.discovery import OpenIDProviderMetadata
from joserfc import jwt
from joserfc.jwk import KeySet

from support import (
    Browser,
    authorization_params,
    b64url_json,
    exchange_code,
    jwt_parts,
    query_params,
    unique,
    without_query,
)


@pytest.fixture(scope="module")
def user(server):
    return server.create_user()


@pytest.fixture(scope="module")
def rp(server):
    return server.create_client(redirect_uris=[f"https://{unique('rp')}.example.org/cb"],
                                grants=["authorization_code"])


def login(server, user) -> Browser:
    browser = Browser(server)
    browser.login(user)
    return browser


def code_for(server, rp, user, browser=None, **params) -> str:
    browser = browser or Browser(server)
    location = browser.authorize(authorization_params(rp, **params), user)
    q = query_params(location)
    assert "code" in q, location
    return q["code"]


def tokens_for(server, rp, user, browser=None, **params) -> dict:
    params.setdefault("scope", "openid")
    resp = exchange_code(server, rp, code_for(server, rp, user, browser, **params))
    assert resp.status_code == 200, resp.text
    return resp.json()


def verified(server, id_token) -> dict:
    keys = KeySet.import_key_set(requests.get(server.url("/oauth/jwks"), timeout=10).json())
    return jwt.decode(id_token, keys, algorithms=[jwt_parts(id_token)[0]["alg"]]).claims


def userinfo(server, token, method="GET"):
    return requests.request(method, server.url("/oauth/userinfo"), headers={"Authorization": f"Bearer {token}"},
                            timeout=10)


def test_id_token_claims_oidc_core_3_1_3_7(server, rp, user):
    browser = login(server, user)
    signed_in_at = time.time()
    t = tokens_for(server, rp, user, browser, nonce="n-0S6_WzA2Mj")
    header, _ = jwt_parts(t["id_token"])
    claims = verified(server, t["id_token"])
    assert header["kid"] and header["typ"] == "JWT"
    assert claims["iss"] == server.issuer
    assert claims["aud"] in (rp.client_id, [rp.client_id])
    assert claims["sub"] == str(user.id) == jwt_parts(t["access_token"])[1]["sub"]
    assert claims["nonce"] == "n-0S6_WzA2Mj"
    assert abs(claims["iat"] - time.time()) < 30 and claims["exp"] > claims["iat"]
    assert abs(claims["auth_time"] - signed_in_at) < 5 and claims["auth_time"] <= claims["iat"]
    digest = hashlib.sha256(t["access_token"].encode()).digest()
    assert claims["at_hash"] == base64.urlsafe_b64encode(digest[:16]).rstrip(b"=").decode()


def test_auth_time_is_when_the_user_signed_in_oidc_core_2(server, rp, user):
    browser = login(server, user)
    time.sleep(2.2)
    claims = verified(server, tokens_for(server, rp, user, browser)["id_token"])
    assert claims["iat"] - claims["auth_time"] >= 2


def test_no_id_token_without_openid_oidc_core_3_1_2_1(server, rp, user):
    t = tokens_for(server, rp, user, scope="profile")
    assert "id_token" not in t


def test_no_nonce_no_nonce_claim_oidc_core_3_1_2_1(server, rp, user):
    assert "nonce" not in verified(server, tokens_for(server, rp, user)["id_token"])


def test_replayed_nonce_is_refused_oidc_core_3_1_2_1(server, rp, user):
    nonce = unique("nonce")
    browser = login(server, user)
    code_for(server, rp, user, browser, scope="openid", nonce=nonce)
    resp = browser.open_authorize(authorization_params(rp, scope="openid", nonce=nonce))
    assert resp.status_code == 302 and query_params(resp.headers["Location"])["error"] == "invalid_request"


def test_userinfo_claims_by_scope_oidc_core_5_4(server, rp, user):
    only_openid = tokens_for(server, rp, user)["access_token"]
    assert userinfo(server, only_openid).json() == {"sub": str(user.id)}
    everything = tokens_for(server, rp, user, scope="openid profile email")["access_token"]
    for method in ("GET", "POST"):
        resp = userinfo(server, everything, method)
        assert resp.status_code == 200 and resp.headers["Content-Type"].startswith("application/json")
        info = resp.json()
        assert info["sub"] == str(user.id) and info["preferred_username"] == user.username
        assert info["email"] == user.email and info["email_verified"] is False
        assert info["name"] and isinstance(info["updated_at"], int)


def test_userinfo_needs_a_token_with_openid_oidc_core_5_3_3(server, rp, user):
    no_openid = tokens_for(server, rp, user, scope="profile")["access_token"]
    resp = userinfo(server, no_openid)
    assert resp.status_code == 403 and 'error="insufficient_scope"' in resp.headers["WWW-Authenticate"]
    resp = requests.get(server.url("/oauth/userinfo"), timeout=10)
    assert resp.status_code == 401 and resp.headers["WWW-Authenticate"].startswith("Bearer")
    assert userinfo(server, "not-a-token").status_code == 401


def test_userinfo_token_in_a_form_body_rfc6750_2_2_oidc_core_5_3_1(server, rp, user):
    """pyoidc's default UserInfo request: POST, the token as the form field ``access_token``."""
    token = tokens_for(server, rp, user, scope="openid profile")["access_token"]
    raw = requests.post(server.url("/oauth/userinfo"), data="access_token=" + token, timeout=10,
                        headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert raw.status_code == 200, raw.text
    assert raw.json()["sub"] == str(user.id) and raw.json()["preferred_username"] == user.username
    pyoidc_like = requests.post(server.url("/oauth/userinfo"), data={"access_token": token}, timeout=10,
                                headers={"Content-Type": "application/x-www-form-urlencoded; charset=UTF-8"})
    assert pyoidc_like.status_code == 200 and pyoidc_like.json()["sub"] == str(user.id)


def test_userinfo_body_token_is_checked_like_a_header_token_rfc6750_3_1(server, rp, user):
    no_openid = tokens_for(server, rp, user, scope="profile")["access_token"]
    resp = requests.post(server.url("/oauth/userinfo"), data={"access_token": no_openid}, timeout=10)
    assert resp.status_code == 403 and 'error="insufficient_scope"' in resp.headers["WWW-Authenticate"]
    resp = requests.post(server.url("/oauth/userinfo"), data={"access_token": "not-a-token"}, timeout=10)
    assert resp.status_code == 401 and 'error="invalid_token"' in resp.headers["WWW-Authenticate"]


def test_userinfo_two_ways_at_once_is_invalid_request_rfc6750_2(server, rp, user):
    """§2: a client MUST NOT use more than one method to send the token in a request."""
    token = tokens_for(server, rp, user)["access_token"]
    resp = requests.post(server.url("/oauth/userinfo"), data={"access_token": token}, timeout=10,
                         headers={"Authorization": f"Bearer {token}"})
    assert resp.status_code == 400 and resp.json()["error"] == "invalid_request"
    assert 'error="invalid_request"' in resp.headers["WWW-Authenticate"]
    repeated = requests.post(server.url("/oauth/userinfo"), data=[("access_token", token)] * 2, timeout=10)
    assert repeated.status_code == 400 and repeated.json()["error"] == "invalid_request"


def test_body_token_only_on_userinfo_not_the_api_rfc6750_2_2(server, rp, user):
    """The form-body method is the UserInfo endpoint's (Core §5.3.1); the JSON API takes the header only."""
    token = tokens_for(server, rp, user, scope="openid users:read")["access_token"]
    api = requests.get(server.url("/api/1.0/users/me"), data={"access_token": token}, timeout=10)
    assert api.status_code == 401
    as_json = requests.post(server.url("/oauth/userinfo"), json={"access_token": token}, timeout=10)
    assert as_json.status_code == 401
    in_query = requests.get(server.url("/oauth/userinfo"), params={"access_token": token}, timeout=10)
    assert in_query.status_code == 401


def test_prompt_none_without_session_is_login_required_oidc_core_3_1_2_6(server, rp):
    params = authorization_params(rp, scope="openid", prompt="none")
    resp = Browser(server).open_authorize(params)
    assert resp.status_code == 302
    q = query_params(resp.headers["Location"])
    assert q["error"] == "login_required" and q["state"] == params["state"] and q["iss"] == server.issuer


def test_prompt_none_with_session_is_consent_required_oidc_core_3_1_2_6(server, rp):
    """A signed-in user who never approved this client (a remembered consent would let prompt=none through)."""
    resp = login(server, server.create_user()).open_authorize(authorization_params(rp, scope="openid", prompt="none"))
    assert resp.status_code == 302 and query_params(resp.headers["Location"])["error"] == "consent_required"


def test_prompt_none_with_another_value_is_invalid_oidc_core_3_1_2_1(server, rp, user):
    resp = login(server, user).open_authorize(authorization_params(rp, scope="openid", prompt="none login"))
    assert resp.status_code == 302 and query_params(resp.headers["Location"])["error"] == "invalid_request"


REQUEST_OBJECT = b64url_json({"alg": "none"}) + "." + b64url_json({"scope": "openid users:write"}) + "."


@pytest.mark.parametrize("name, value, error", [
    ("request", REQUEST_OBJECT, "invalid_request_object"),
    ("request_uri", "https://rp.example.org/request.jwt", "request_uri_not_supported"),
])
def test_request_objects_are_refused_to_the_client_with_state_oidc_core_6(server, rp, user, name, value, error):
    """§6.1: an unsigned request object (``alg: none``, from a client with no keys) is refused, never run;
    §6.2: a ``request_uri`` is taken only from the pushed authorization request endpoint, so one the client hosts
    is not supported. Ignoring either would run a request the client did not mean (here one asking for more).
    Signed request objects: tests/test_jar_rfc9101.py."""
    params = authorization_params(rp, scope="openid", **{name: value})
    resp = login(server, user).open_authorize(params)
    assert resp.status_code == 302 and without_query(resp.headers["Location"]) == rp.redirect_uri
    q = query_params(resp.headers["Location"])
    assert q["error"] == error and q["state"] == params["state"] and q["iss"] == server.issuer
    assert "code" not in q


def test_request_object_with_a_wrong_redirect_uri_is_an_error_page_oidc_core_6(server, rp, user):
    params = authorization_params(rp, scope="openid", redirect_uri="https://evil.example/cb", request=REQUEST_OBJECT)
    resp = login(server, user).open_authorize(params)
    assert resp.status_code == 400 and "Location" not in resp.headers


def test_prompt_login_forces_sign_in_oidc_core_3_1_2_1(server, rp, user):
    browser = login(server, user)
    first_login = time.time()
    time.sleep(1.1)
    resp = browser.open_authorize(authorization_params(rp, scope="openid", prompt="login"))
    assert resp.status_code == 303 and urlsplit(resp.headers["Location"]).path == "/login"
    t = tokens_for(server, rp, user, browser, prompt="login")  # signs in again on the way
    assert verified(server, t["id_token"])["auth_time"] >= int(first_login) + 1


def test_max_age_forces_sign_in_when_older_oidc_core_3_1_2_1(server, rp, user):
    browser = login(server, user)
    time.sleep(2.1)
    fresh_enough = browser.open_authorize(authorization_params(rp, scope="openid", max_age="3600"))
    assert fresh_enough.status_code in (200, 302)  # the consent page, or the code if consent is remembered
    assert fresh_enough.status_code == 200 or "code" in query_params(fresh_enough.headers["Location"])
    too_old = browser.open_authorize(authorization_params(rp, scope="openid", max_age="1"))
    assert too_old.status_code == 303 and urlsplit(too_old.headers["Location"]).path == "/login"
    t = tokens_for(server, rp, user, browser, max_age="1")
    claims = verified(server, t["id_token"])
    assert time.time() - claims["auth_time"] < 5  # §3.1.2.1: auth_time present when max_age was asked


def test_bad_max_age_is_invalid_request_oidc_core_3_1_2_1(server, rp, user):
    resp = login(server, user).open_authorize(authorization_params(rp, scope="openid", max_age="soon"))
    assert resp.status_code == 302 and query_params(resp.headers["Location"])["error"] == "invalid_request"


def test_login_hint_fills_the_username_oidc_core_3_1_2_1(server, rp, user):
    resp = Browser(server).open_authorize(authorization_params(rp, scope="openid", login_hint=user.username))
    assert resp.status_code == 303
    login_page = Browser(server).get(resp.headers["Location"])
    assert f'value="{user.username}"' in login_page.text
    assert parse_qs(urlsplit(resp.headers["Location"]).query)["login_hint"] == [user.username]


def test_refresh_token_only_with_offline_access_oidc_core_11(server, user):
    app = server.create_client(redirect_uris=[f"https://{unique('off')}.example.org/cb"])
    assert "refresh_token" not in tokens_for(server, app, user, scope="openid")
    assert tokens_for(server, app, user, scope="openid offline_access").get("refresh_token")
    assert tokens_for(server, app, user, scope="users:read").get("refresh_token")  # plain OAuth: as before


def test_provider_metadata_oidc_discovery_3(server, monkeypatch):
    meta = requests.get(server.url("/.well-known/openid-configuration"), timeout=10).json()
    monkeypatch.setenv("AUTHLIB_INSECURE_TRANSPORT", "1")  # the test server's issuer is http://127.0.0.1
    OpenIDProviderMetadata(meta).validate()
    assert meta["userinfo_endpoint"] == server.url("/oauth/userinfo")
    assert meta["subject_types_supported"] == ["public"]
    # RS256 first (Core §15.1); beside it only the key reserved for FAPI 2.0 clients, if that module made one here
    algs = meta["id_token_signing_alg_values_supported"]
    assert algs[0] == "RS256" and set(algs[1:]) <= {"PS256", "ES256", "EdDSA"}
    assert {"sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "at_hash", "email", "preferred_username"} <= set(
        meta["claims_supported"])
    assert meta["request_parameter_supported"] is True
    assert meta["request_uri_parameter_supported"] is False and meta["prompt_values_supported"] == ["none", "login", "consent"]
