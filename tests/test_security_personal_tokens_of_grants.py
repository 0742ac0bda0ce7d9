"""A personal access token made by an application never outlives the application's grant (CWE-613).

An OAuth access token holding ``tokens:write`` may make personal access tokens (``POST /users/{id}/tokens``).
The application acts only by the user's grant, which the user ends by revoking it (``DELETE
/users/me/authorizations/{clientId}``): RFC 7009 §2.1's rule that revoking a grant invalidates "all other
tokens based on the same authorization grant" covers a token the application minted with it, or revoking an
application would leave it a long-lived credential of its own. So a token made with an access token records
that token's family and is revoked with it; one made with such a token inherits the family; one the user makes
with their own means (their own personal access token) is theirs alone and survives.
"""

from __future__ import annotations

import pytest

from support import Api, api_for, assert_unauthenticated, password_grant, refresh, unique

APP_SCOPES = "users:read tokens:write"


@pytest.fixture(scope="module")
def app(server):
    return server.create_client(name=unique("script-maker"), grants=["password", "refresh_token"])


def app_token(server, app, user) -> dict:
    r = password_grant(server, app, user, scope=APP_SCOPES)
    assert r.status_code == 200, r.text
    return r.json()


def made_by(api: Api, user, name: str = "made") -> Api:
    made = api.ok("POST", f"/users/{user.id}/tokens", 201, json={"name": unique(name), "scopes": ["users:read",
                                                                                                  "tokens:write"]})
    return Api(api.server, made["accessToken"])


def test_revoking_the_application_revokes_the_tokens_it_made_rfc7009_2_1(server, app, make_user):
    user = make_user()
    own = api_for(server, user.username)
    oauth = Api(server, app_token(server, app, user)["access_token"])
    minted = made_by(oauth, user, "minted")
    grandchild = made_by(minted, user, "grandchild")  # made with the minted one: the same grant
    mine = made_by(own, user, "mine")  # the user's own, made without the application
    for api in (minted, grandchild, mine):
        assert api.ok("GET", "/users/me")["id"] == user.id
    assert app.client_id in [a["id"] for a in own.ok("GET", "/users/me/authorizations")["data"]]

    own.ok("DELETE", f"/users/me/authorizations/{app.client_id}", 204)

    for api in (oauth, minted, grandchild):
        assert_unauthenticated(api.get("/users/me"))
    assert mine.ok("GET", "/users/me")["id"] == user.id
    listed = [t["name"] for t in own.ok("GET", f"/users/{user.id}/tokens")["data"]]
    assert not [name for name in listed if name.startswith(("minted", "grandchild"))], listed


def test_a_refresh_token_reuse_revokes_the_tokens_made_with_its_family_rfc9700_4_14_2(server, app, make_user):
    user = make_user()
    tokens = app_token(server, app, user)
    minted = made_by(Api(server, tokens["access_token"]), user)
    assert refresh(server, app, tokens["refresh_token"]).status_code == 200
    assert refresh(server, app, tokens["refresh_token"]).status_code == 400  # reuse: the family is revoked
    assert_unauthenticated(minted.get("/users/me"))

