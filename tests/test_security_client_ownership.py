"""``edit-auth_clients`` does not reach a client whose owner is more powerful (CWE-269, CWE-639).

Whoever sets a client's redirect URIs or knows its secret acts as that client towards every user who trusts it:
changing, disabling, enabling, deleting another user's client or giving it a new secret is acting on what that
user owns, so it follows the rule of acting on their account (``PermissionService.require_over``): an
administrator's client only by an administrator, anyone else's only by someone holding every permission its
owner holds. A client made at the command line has no owner and ``edit-auth_clients`` suffices, as before.
Refused from the side that must be refused: a holder of every ``*-auth_clients`` permission, not an
administrator, over the API and on the Clients admin page; the client is left as it was.
"""

from __future__ import annotations

import pytest

from support import Api, Browser, assert_forbidden, grant, parse_page, token_request, unique, user_via_api

MANAGER = ("view-auth_clients", "create-auth_clients", "edit-auth_clients", "delete-auth_clients")


def api_of(admin: Api, user) -> Api:
    made = admin.ok("POST", f"/users/{user.id}/tokens", 201, json={"name": unique("pat"), "scopes": ["*"]})
    return Api(admin.server, made["accessToken"])


def service_client(api: Api) -> dict:
    return api.ok("POST", "/oauth/clients", 201, json={"name": unique("app"), "types": ["client_credentials"],
                                                       "redirect": "https://app.example.org/cb"})


def secret_works(server, client: dict) -> bool:
    r = token_request(server, {"grant_type": "client_credentials"}, auth=(client["id"], client["secret"]))
    return r.status_code == 200


@pytest.fixture(scope="module")
def manager(server, admin):
    user = user_via_api(admin)
    grant(admin, user.id, *MANAGER)
    return user, api_of(admin, user)


def attempts(api: Api, client_id: str):
    yield api.put(f"/oauth/clients/{client_id}", json={"name": "renamed by manager"})
    yield api.put(f"/oauth/clients/{client_id}", json={"redirect": "https://attacker.example.net/cb"})
    yield api.post(f"/oauth/clients/{client_id}/secret")
    yield api.post(f"/oauth/clients/{client_id}/disable")
    yield api.post(f"/oauth/clients/{client_id}/enable")
    yield api.delete(f"/oauth/clients/{client_id}")


def test_a_client_manager_cannot_touch_an_administrators_client(server, admin, manager):
    _, manager_api = manager
    client = service_client(admin)
    before = admin.ok("GET", f"/oauth/clients/{client['id']}")
    for r in attempts(manager_api, client["id"]):
        assert "administrator" in assert_forbidden(r)["reason"]
    assert admin.ok("GET", f"/oauth/clients/{client['id']}") == before
    assert secret_works(server, client)


def test_a_client_manager_cannot_touch_the_client_of_a_user_holding_more(server, admin, manager):
    _, manager_api = manager
    owner = user_via_api(admin)
    grant(admin, owner.id, *MANAGER, "edit-users")
    client = service_client(api_of(admin, owner))
    before = admin.ok("GET", f"/oauth/clients/{client['id']}")
    for r in attempts(manager_api, client["id"]):
        assert "edit-users" in assert_forbidden(r)["reason"]
    assert admin.ok("GET", f"/oauth/clients/{client['id']}") == before
    assert secret_works(server, client)


def test_a_client_manager_manages_clients_of_users_holding_no_more_and_ownerless_ones(server, admin, manager):
    _, manager_api = manager
    equal = user_via_api(admin)
    grant(admin, equal.id, *MANAGER)
    for client_id in (service_client(api_of(admin, equal))["id"], server.create_client().client_id):
        assert manager_api.ok("PUT", f"/oauth/clients/{client_id}", json={"name": "renamed"})["name"] == "renamed"
        manager_api.ok("POST", f"/oauth/clients/{client_id}/secret", 200)
        manager_api.ok("DELETE", f"/oauth/clients/{client_id}", 204)


def test_the_clients_page_refuses_a_new_secret_or_deletion_of_an_administrators_client(server, admin, manager):
    manager_user, _ = manager
    client = service_client(admin)
    browser = Browser(server)
    browser.login(manager_user)
    for action in (f"/admin/auth-clients/{client['id']}/secret", f"/admin/auth-clients/{client['id']}/delete",
                   f"/admin/auth-clients/{client['id']}/disable"):
        form = next(f for f in parse_page(browser.get(action).text).forms if f.action == action)
        r = browser.post(action, data={"csrf_token": form.input("csrf_token")["value"]})
        assert r.status_code == 403 and "administrator" in r.text, (action, r.status_code, r.text[:300])
    assert secret_works(server, client)
    assert admin.ok("GET", f"/oauth/clients/{client['id']}")["disabled_at"] is None


def test_new_credentials_for_a_client_that_reads_the_directory_need_that_read(server, admin, manager):
    """A new secret or new keys let whoever set them use the client's client credentials grant (RFC 6749 §4.4):
    for a client that reads the directory, only someone who could give it that read may set them."""
    _, manager_api = manager
    made = server.create_client(grants=["client_credentials"], scopes=["users:read"])  # ownerless
    for r in (manager_api.post(f"/oauth/clients/{made.client_id}/secret"),
              manager_api.put(f"/oauth/clients/{made.client_id}", json={
                  "token_endpoint_auth_method": "private_key_jwt", "jwks_uri": "https://app.example.org/jwks"})):
        assert "view-users" in assert_forbidden(r)["reason"]
    assert secret_works(server, {"id": made.client_id, "secret": made.client_secret})
    manager_api.ok("PUT", f"/oauth/clients/{made.client_id}", json={"name": unique("renamed")})  # no new credentials


def test_the_clients_page_shows_why_a_new_secret_for_a_client_reading_the_directory_is_refused(server, admin, manager):
    """The same rule on the admin page, as the refused manager sees it: 403, the page names what is lacking,
    and the client keeps its secret (RFC 6749 §4.4: a new secret would be the directory read)."""
    manager_user, _ = manager
    made = server.create_client(grants=["client_credentials"], scopes=["users:read"])  # ownerless
    before = admin.ok("GET", f"/oauth/clients/{made.client_id}")
    browser = Browser(server)
    browser.login(manager_user)
    action = f"/admin/auth-clients/{made.client_id}/secret"
    form = next(f for f in parse_page(browser.get(action).text).forms if f.action == action)
    r = browser.post(action, data={"csrf_token": form.input("csrf_token")["value"]})
    shown = parse_page(r.text).text
    assert r.status_code == 403 and "Not allowed" in shown, (r.status_code, shown[:300])
    assert "reads the directory with client credentials (users:read)" in shown and "you lack: view-users" in shown
    assert admin.ok("GET", f"/oauth/clients/{made.client_id}") == before
    assert secret_works(server, {"id": made.client_id, "secret": made.client_secret})
