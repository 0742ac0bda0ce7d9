"""/api/1.0/users/me/authorizations: the applications a user has let in (their live token families
per client, RFC 6749 §4.1 / §4.3 grants) and revoking one, which revokes its access and refresh
tokens at once (RFC 6750 §3.1, RFC 7009's effect). Client credentials tokens have no user: 403.
"""

from __future__ import annotations

from support import (Api, api_for, assert_forbidden, assert_not_found, assert_unauthenticated, code_flow_tokens,
                     password_grant, refresh, token_request, unique)


def test_authorized_apps_are_listed_and_revocable(server, make_user, make_client, redirect_uri):
    user, other = make_user(), make_user()
    web = make_client(name=unique("web"), redirect_uris=[redirect_uri], grants=["authorization_code"])
    cli = make_client(name=unique("cli"), grants=["password"])
    web_tokens = code_flow_tokens(server, web, user, scope="users:read tokens:read")
    cli_tokens = password_grant(server, cli, user, scope="users:read").json()
    password_grant(server, cli, other, scope="users:read")

    api = api_for(server, user.username)
    listed = api.ok("GET", "/users/me/authorizations")
    by_id = {a["id"]: a for a in listed["data"]}
    assert set(by_id) == {web.client_id, cli.client_id} and listed["meta"]["total"] == 2
    assert by_id[web.client_id]["client"]["name"] == web.name
    assert set(by_id[web.client_id]["scopes"]) == {"users:read", "tokens:read"}
    assert by_id[cli.client_id]["grant_types"] == ["password"]

    api.ok("DELETE", f"/users/me/authorizations/{cli.client_id}", 204)
    assert_unauthenticated(Api(server, cli_tokens["access_token"]).get("/users/me"))
    assert refresh(server, cli, cli_tokens["refresh_token"]).status_code == 400
    assert Api(server, web_tokens["access_token"]).get("/users/me").status_code == 200  # only that one
    assert [a["id"] for a in api.ok("GET", "/users/me/authorizations")["data"]] == [web.client_id]
    assert_not_found(api.delete(f"/users/me/authorizations/{cli.client_id}"))
    other_api = api_for(server, other.username)
    assert [a["id"] for a in other_api.ok("GET", "/users/me/authorizations")["data"]] == [cli.client_id]


def test_client_credentials_tokens_read_the_directory_only_when_registered_for_it(server, admin):
    """A service account reads users/groups only if its client was registered with that scope by name."""
    def cc_token(scopes):
        client = admin.ok("POST", "/oauth/clients", 201, json={"name": unique("svc"), "types": ["client_credentials"],
                                                               "scopes": scopes})
        r = token_request(server, {"grant_type": "client_credentials", "scope": "users:read tokens:read"},
                          auth=(client["id"], client["secret"]))
        assert r.status_code == 200, r.text
        return Api(server, r.json()["access_token"])

    trusted = cc_token(["users:read", "tokens:read"])
    assert trusted.get("/users").status_code == 200
    me = assert_forbidden(trusted.get("/users/me"))
    assert "client credentials" in me["reason"]
    assert "client credentials" in assert_forbidden(trusted.get("/users/me/authorizations"))["reason"]
    assert_forbidden(trusted.get("/users/1/tokens"))
    untrusted = cc_token([])  # may ask for any scope, but was not trusted with the directory
    assert "client credentials" in assert_forbidden(untrusted.get("/users"))["reason"]
