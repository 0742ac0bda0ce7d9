"""RFC 8707 resource indicators: ``resource`` at the authorization, token and device authorization
endpoints, the access token's audience, ``invalid_target``, scopes bound to the resource, narrowing on
refresh, and authgate's own API accepting only tokens meant for it (while tokens asked for no resource
keep working as before). Real server, real HTTP; resources registered with the CLI."""

from __future__ import annotations

from urllib.parse import urlencode
from urllib.parse import urlsplit

import pytest
import requests

from support import Browser
from support.api import users_me
from support.oauth import (
    assert_token_error,
    authorization_params,
    exchange_code,
    introspect,
    refresh,
    token_request,
)
from support.values import jwt_parts, query_params, unique

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"


def register(server, scopes=("read",), ttl=None, introspection=True) -> str:
    identifier = f"https://{unique('api')}.example.com/v1"
    args = ["resources", "create", "--identifier", identifier, "--name", identifier]
    for scope in scopes:
        args += ["--scope", f"{scope}"]
    if ttl:
        args += ["--access-token-ttl", str(ttl)]
    if not introspection:
        args.append("--no-introspection")
    server.commands.run_json(*args)
    return identifier


@pytest.fixture(scope="module")
def orders(server) -> str:
    """Resource A: defines orders:read and orders:write."""
    return register(server, ("orders:read", "orders:write"))


@pytest.fixture(scope="module")
def billing(server) -> str:
    """Resource B: defines billing:read."""
    return register(server, ("billing:read",))


@pytest.fixture(scope="module")
def own_api(server) -> str:
    return server.issuer + "/api/1.0"


@pytest.fixture(scope="module")
def user(server):
    return server.create_user()


@pytest.fixture(scope="module")
def app(server):
    return server.create_client(redirect_uris=["https://app.example.com/cb"],
                                grants=["authorization_code", "password", "client_credentials", "device_code"])


def password_token(server, client, user, scope, resources=()) -> requests.Response:
    data = [("grant_type", "password"), ("username", user.username), ("password", user.password), ("scope", scope)]
    data += [("resource", r) for r in resources]
    return token_request(server, data, auth=client.basic)


def ok(response: requests.Response) -> dict:
    assert response.status_code == 200, response.text
    return response.json()


def aud(token: str):
    return jwt_parts(token)[1]["aud"]


def authorize_url(client, scope, resources) -> str:
    params = list(authorization_params(client, scope=scope).items()) + [("resource", r) for r in resources]
    return "/oauth/authorize?" + urlencode(params)


def code_for(server, client, user, scope, resources) -> str:
    location = Browser(server).authorize(authorize_url(client, scope, resources), user)
    q = query_params(location)
    assert "code" in q, location
    return q["code"]


def exchange(server, client, code, resources=()) -> requests.Response:
    data = [("grant_type", "authorization_code"), ("code", code), ("redirect_uri", client.redirect_uri)]
    data += [("resource", r) for r in resources]
    return token_request(server, data, auth=client.basic)


# -- the audience ----------------------------------------------------------------------------------


def test_token_for_a_resource_has_it_as_audience_and_the_api_refuses_it(server, app, user, orders):
    """RFC 8707 §2: the access token's ``aud`` is exactly the resource asked for; authgate's API, which
    is not that resource, refuses it (RFC 6750 §3.1 invalid_token, with its RFC 9728 metadata URL)."""
    body = ok(password_token(server, app, user, "orders:read", [orders]))
    assert aud(body["access_token"]) == [orders]
    assert body["scope"] == "orders:read"
    refused = users_me(server, body["access_token"])
    assert refused.status_code == 401, refused.text
    challenge = refused.headers["WWW-Authenticate"]
    assert 'error="invalid_token"' in challenge
    assert f'resource_metadata="{server.issuer}/.well-known/oauth-protected-resource/api/1.0"' in challenge


def test_token_for_authgates_own_api_works_there(server, app, user, own_api, orders):
    """RFC 8707 §2: a token whose audience includes the API's identifier is taken by the API, alone or
    beside another resource; asked several times (the fast lane answers warm reads) it stays accepted."""
    body = ok(password_token(server, app, user, "users:read", [own_api]))
    assert aud(body["access_token"]) == [own_api]
    for _ in range(3):
        me = users_me(server, body["access_token"])
        assert me.status_code == 200, me.text
        assert me.json()["username"] == user.username
    both = ok(password_token(server, app, user, "users:read orders:read", [orders, own_api]))
    assert aud(both["access_token"]) == [orders, own_api]
    assert users_me(server, both["access_token"]).status_code == 200


def test_token_asked_for_no_resource_is_as_before(server, app, user):
    """Without ``resource`` nothing changes: ``aud`` is the issuer (a string) and the API takes it."""
    body = ok(password_token(server, app, user, "users:read"))
    assert aud(body["access_token"]) == server.issuer
    assert users_me(server, body["access_token"]).status_code == 200


def test_refused_token_is_refused_on_every_read(server, app, user, orders):
    """The audience rule holds on warm reads too (the fast lane falls through to the route's 401)."""
    token = ok(password_token(server, app, user, "orders:read", [orders]))["access_token"]
    assert [users_me(server, token).status_code for _ in range(4)] == [401] * 4


def test_client_credentials_for_a_resource(server, app, orders):
    """RFC 8707 §2 with the client credentials grant; with no scope asked, the resource's scopes."""
    data = [("grant_type", "client_credentials"), ("resource", orders)]
    body = ok(token_request(server, data, auth=app.basic))
    assert aud(body["access_token"]) == [orders]
    assert set(body["scope"].split()) == {"orders:read", "orders:write"}


def test_resource_lifetime_and_introspection_answer_aud(server, app, user):
    """The resource's access-token lifetime decides ``expires_in``; introspection (RFC 7662 §2.2) returns
    ``aud``, and a resource that forbids introspection gets ``{"active": false}`` for its tokens."""
    short = register(server, ("x:read",), ttl=120)
    body = ok(password_token(server, app, user, "x:read", [short]))
    assert body["expires_in"] == 120
    described = introspect(server, app, body["access_token"]).json()
    assert described["active"] is True and described["aud"] == [short]
    closed = register(server, ("y:read",), introspection=False)
    hidden = ok(password_token(server, app, user, "y:read", [closed]))["access_token"]
    assert introspect(server, app, hidden).json() == {"active": False}
    old = ok(password_token(server, app, user, "users:read"))["access_token"]
    assert introspect(server, app, old).json()["aud"] == server.issuer


# -- invalid_target and invalid_scope --------------------------------------------------------------


@pytest.mark.parametrize("resource", ["https://nobody.example.com/api", "/relative/path", "api.example.com",
                                      "https://api.example.com/#frag", ""])
def test_unknown_or_malformed_resource_is_invalid_target(server, app, user, resource):
    """RFC 8707 §2: a resource that is unknown, not an absolute URI, or has a fragment: ``invalid_target``."""
    assert_token_error(password_token(server, app, user, "users:read", [resource]), "invalid_target")


def test_scope_not_defined_by_the_resource_is_invalid_scope(server, app, user, orders, billing):
    """RFC 8707 §2 / RFC 6749 §5.2: the scopes asked for must be the resource's (billing:read is B's)."""
    assert_token_error(password_token(server, app, user, "billing:read", [orders]), "invalid_scope")
    assert_token_error(password_token(server, app, user, "users:read", [orders]), "invalid_scope")
    ok(password_token(server, app, user, "openid orders:read", [orders]))


def test_client_limited_to_scopes_keeps_its_limit(server, user, orders):
    """A client registered with a scope list may ask a resource only for scopes in that list."""
    limited = server.create_client(grants=["password"], scopes=["orders:read"])
    ok(password_token(server, limited, user, "orders:read", [orders]))
    assert_token_error(password_token(server, limited, user, "orders:write", [orders]), "invalid_scope")


def test_invalid_target_at_the_authorization_endpoint(server, app, user):
    """RFC 8707 §2: at the authorization endpoint the error goes back to the client (RFC 6749 §4.1.2.1)."""
    browser = Browser(server)
    browser.login(user)
    r = browser.open_authorize(authorize_url(app, "users:read", ["https://nobody.example.com/api"]))
    assert r.status_code == 302, r.text[:300]
    q = query_params(r.headers["Location"])
    assert r.headers["Location"].startswith(app.redirect_uri) and q["error"] == "invalid_target", q


def test_invalid_target_at_the_device_endpoint(server, app):
    """RFC 8707 §2 at the device authorization endpoint (RFC 8628 §3.1)."""
    r = requests.post(server.url("/oauth/device"), data={"resource": "https://nobody.example.com/x"},
                      auth=app.basic, timeout=10)
    assert_token_error(r, "invalid_target")


# -- the code flow ---------------------------------------------------------------------------------


def test_code_exchange_narrows_to_an_authorized_resource(server, app, user, orders, own_api):
    """RFC 8707 §2.1-2.2: resources authorized at /authorize; the code exchange may ask for one of them,
    and naming none gets all of them; the consent page names them."""
    consent = Browser(server).consent_page(authorize_url(app, "users:read orders:read", [orders, own_api]), user)
    assert orders in consent.text
    code = code_for(server, app, user, "orders:read", [orders, own_api])
    assert aud(ok(exchange(server, app, code, [orders]))["access_token"]) == [orders]
    code = code_for(server, app, user, "users:read", [own_api, orders])
    token = ok(exchange(server, app, code))["access_token"]
    assert aud(token) == [own_api, orders]
    assert users_me(server, token).status_code == 200


def test_code_exchange_with_a_resource_not_authorized_is_refused(server, app, user, orders, billing):
    """RFC 8707 §2.2: a resource at the token endpoint must be one authorized at the authorization
    endpoint: another one, or one when the authorization named none, is ``invalid_target``."""
    code = code_for(server, app, user, "orders:read", [orders])
    assert_token_error(exchange(server, app, code, [billing]), "invalid_target")
    code = code_for(server, app, user, "users:read", [])
    assert_token_error(exchange(server, app, code, [orders]), "invalid_target")


def test_code_flow_without_resource_is_unchanged(server, app, user):
    """No ``resource`` anywhere: the token's audience is the issuer, as before."""
    code = code_for(server, app, user, "users:read", [])
    token = ok(exchange_code(server, app, code))["access_token"]
    assert aud(token) == server.issuer


# -- refresh ---------------------------------------------------------------------------------------


def test_refresh_narrows_never_widens(server, app, user, orders, billing, own_api):
    """RFC 8707 §2.2: a refresh may ask for some of the grant's resources (with the scopes they define),
    naming none gets all of them again; a resource outside the grant is ``invalid_target`` and leaves
    the refresh token working."""
    body = ok(password_token(server, app, user, "orders:read billing:read", [orders, billing]))
    assert_token_error(refresh(server, app, body["refresh_token"], resource=own_api), "invalid_target")
    assert_token_error(refresh(server, app, body["refresh_token"], resource=orders), "invalid_scope")
    narrowed = ok(refresh(server, app, body["refresh_token"], resource=orders, scope="orders:read"))
    assert aud(narrowed["access_token"]) == [orders] and narrowed["scope"] == "orders:read"
    again = ok(refresh(server, app, narrowed["refresh_token"]))
    assert aud(again["access_token"]) == [orders, billing]


def test_refresh_of_a_grant_without_resources_cannot_gain_one(server, app, user, orders):
    """RFC 8707 §2.2: a grant made for no resource cannot be widened to one at refresh."""
    body = ok(password_token(server, app, user, "users:read"))
    assert_token_error(refresh(server, app, body["refresh_token"], resource=orders), "invalid_target")
    assert aud(ok(refresh(server, app, body["refresh_token"]))["access_token"]) == server.issuer


# -- the device flow -------------------------------------------------------------------------------


def test_device_flow_with_a_resource(server, app, user, orders):
    """RFC 8707 §2 with RFC 8628: the device code remembers its resource (the approval page names it),
    the token is for it."""
    start = requests.post(server.url("/oauth/device"), data={"scope": "orders:read", "resource": orders},
                          auth=app.basic, timeout=10)
    assert start.status_code == 200, start.text
    codes = start.json()
    browser = Browser(server)
    page = browser.get("/device?user_code=" + codes["user_code"])
    if page.status_code == 303:
        login = browser.get(page.headers["Location"])
        resp = browser.submit_login(login, browser.single_form(login), user.username, user.password)
        page = browser.get(resp.headers["Location"])
    assert orders in page.text
    form = browser.single_form(page)
    assert browser.post("/device", data={**form.fields(), "decision": "approve"}).status_code == 200
    poll = [("grant_type", DEVICE_GRANT), ("device_code", codes["device_code"])]
    body = ok(token_request(server, poll, auth=app.basic))
    assert aud(body["access_token"]) == [orders]


# -- an independent client -------------------------------------------------------------------------


def test_authlib_client_sends_resource(server, app, user, orders):
    """Authlib's OAuth2Session (an RFC 6749 client nobody here wrote) passes ``resource=`` through."""
    from authlib.integrations.requests_client import OAuth2Session

    session = OAuth2Session(app.client_id, app.client_secret, scope="orders:read")
    token = session.fetch_token(server.url("/oauth/token"), grant_type="password", username=user.username,
                                password=user.password, resource=orders)
    assert aud(token["access_token"]) == [orders]
    assert urlsplit(orders).scheme == "https"
