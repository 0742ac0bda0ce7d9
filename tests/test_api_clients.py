"""/api/1.0/oauth/clients: client applications in ProcessMaker's (Passport's) shape. The secret is
shown only on create and on regenerate (the old one then fails, RFC 6749 §5.2 invalid_client);
deleting a client revokes its tokens at once (RFC 6750 §3.1).
"""

from __future__ import annotations

import pytest

from support import (
    Api, Browser, assert_invalid, assert_not_found, assert_token_error, assert_unauthenticated, pkce_pair,
    token_request, unique,
)


def test_register_with_processmakers_types(admin):
    body = {"name": unique("pm-app"), "redirect": "https://pm.example.org/cb",
            "types": ["authorization_code_grant", "password_client", "personal_access_client"]}
    client = admin.ok("POST", "/oauth/clients", 201, json=body)
    assert client["secret"].startswith("ags_")
    assert client["redirect"] == "https://pm.example.org/cb" and client["redirect_uris"] == ["https://pm.example.org/cb"]
    assert {"authorization_code_grant", "password_client", "personal_access_client"} <= set(client["types"])
    assert client["password_client"] is True and client["personal_access_client"] is True
    shown = admin.ok("GET", f"/oauth/clients/{client['id']}")
    assert "secret" not in shown and shown["name"] == body["name"]
    listed = admin.ok("GET", f"/oauth/clients?filter={body['name']}")
    assert [c["id"] for c in listed["data"]] == [client["id"]] and "secret" not in listed["data"][0]


def test_update_regenerate_secret_and_delete(server, admin):
    client = admin.ok("POST", "/oauth/clients", 201, json={"name": unique("svc"), "types": ["client_credentials"],
                                                           "scopes": ["users:read"]})
    basic = (client["id"], client["secret"])
    r = token_request(server, {"grant_type": "client_credentials"}, auth=basic)
    assert r.status_code == 200, r.text
    access = Api(server, r.json()["access_token"])
    assert access.get("/users").status_code == 200  # control (registered with users:read)

    renamed = admin.ok("PUT", f"/oauth/clients/{client['id']}", json={"name": "renamed", "scopes": ["users:read", "groups:read"]})
    assert renamed["name"] == "renamed" and renamed["scopes"] == ["users:read", "groups:read"]

    fresh = admin.ok("POST", f"/oauth/clients/{client['id']}/secret")
    assert fresh["secret"] and fresh["secret"] != client["secret"]
    assert token_request(server, {"grant_type": "client_credentials"}, auth=basic).status_code == 401
    assert token_request(server, {"grant_type": "client_credentials"}, auth=(client["id"], fresh["secret"])).status_code == 200

    admin.ok("DELETE", f"/oauth/clients/{client['id']}", 204)
    assert_unauthenticated(access.get("/users"))
    assert_not_found(admin.get(f"/oauth/clients/{client['id']}"))


@pytest.mark.parametrize("body,field", [
    ({"types": ["password_client"]}, "name"),
    ({"name": "x", "types": ["implicit"]}, "types"),
    ({"name": "x", "types": ["authorization_code_grant"]}, "redirect_uris"),
    ({"name": "x", "redirect_uris": ["not a url"]}, "redirect_uris"),
    ({"name": "x", "redirect_uris": ["https://a.example/cb#frag"]}, "redirect_uris"),
    ({"name": "x", "scopes": ["everything"]}, "scopes"),
    ({"name": "x", "public": True, "types": ["client_credentials"]}, "types"),
    ({"name": "x", "public": "maybe"}, "public"),
])
def test_client_validation_is_422(admin, body, field):
    assert_invalid(admin.post("/oauth/clients", json=body), field)


def test_public_clients_stay_public_and_have_no_secret(admin):
    client = admin.ok("POST", "/oauth/clients", 201, json={"name": unique("spa"), "public": True,
                                                           "redirect_uris": ["https://spa.example.org/cb"]})
    assert client["secret"] is None and client["public"] is True
    assert_invalid(admin.put(f"/oauth/clients/{client['id']}", json={"public": False}), "public")
    assert_invalid(admin.post(f"/oauth/clients/{client['id']}/secret"), "public")


def test_changes_to_a_client_apply_to_its_next_token_request_rfc6749_5_2(server, admin):
    """The token endpoint keeps clients in memory; a change must still apply to the very next request."""
    client = admin.ok("POST", "/oauth/clients", 201, json={"name": unique("svc"), "types": ["client_credentials"],
                                                           "scopes": ["users:read", "groups:read"]})
    basic = (client["id"], client["secret"])
    for _ in range(2):
        r = token_request(server, {"grant_type": "client_credentials", "scope": "groups:read"}, auth=basic)
        assert r.status_code == 200, r.text
    admin.ok("PUT", f"/oauth/clients/{client['id']}", json={"scopes": ["users:read"]})
    assert_token_error(token_request(server, {"grant_type": "client_credentials", "scope": "groups:read"}, auth=basic),
                       "invalid_scope")
    admin.ok("PUT", f"/oauth/clients/{client['id']}", json={"types": ["password"]})
    assert_token_error(token_request(server, {"grant_type": "client_credentials"}, auth=basic), "unauthorized_client")


def test_an_administrator_pointing_a_client_elsewhere_makes_users_consent_again_rfc9700_4_1(server, admin):
    """A remembered consent is for the client the user saw: where its codes go and its name. An administrator
    (anyone with edit-auth_clients) who adds a redirect URI or renames the client makes every user asked again, so
    codes never go silently to a new address (RFC 9700 section 4.1); a change of its scopes keeps the consent."""
    home = f"https://{unique('app')}.example.org"
    client = admin.ok("POST", "/oauth/clients", 201, json={"name": unique("web"), "redirect": home + "/cb",
                                                           "types": ["authorization_code_grant"]})
    browser = Browser(server)

    def asked(redirect_uri: str) -> int:
        return browser.open_authorize({"response_type": "code", "client_id": client["id"],
                                       "redirect_uri": redirect_uri, "scope": "users:read", "state": "s",
                                       "code_challenge": pkce_pair()[1], "code_challenge_method": "S256"}).status_code

    consent = browser.consent_page({"response_type": "code", "client_id": client["id"], "redirect_uri": home + "/cb",
                                    "scope": "users:read", "state": "s", "code_challenge": pkce_pair()[1],
                                    "code_challenge_method": "S256"}, server.create_user())
    assert browser.decide(consent, "approve").status_code == 302
    assert asked(home + "/cb") == 302, "remembered to begin with"
    admin.ok("PUT", f"/oauth/clients/{client['id']}", json={"scopes": ["users:read", "groups:read"]})
    assert asked(home + "/cb") == 302, "a change of nothing the user saw forgot the consent"

    elsewhere = f"https://{unique('other')}.example.net/cb"
    admin.ok("PUT", f"/oauth/clients/{client['id']}", json={"redirect_uris": [home + "/cb", elsewhere]})
    assert asked(elsewhere) == 200, "the remembered consent sent a code to the new address"
