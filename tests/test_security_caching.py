"""No cache may keep what the API answers (issue 12, item 11; RFC 9111 §5.2.2.5, RFC 6749 §5.1 for the
same rule at the token endpoint): the answers that carry a secret shown once — a new personal access
token, a new client's secret, a regenerated secret — and, by default, every other JSON answer of
``/api/1.0``, errors included, send ``Cache-Control: no-store`` (and ``Pragma: no-cache``)."""

from __future__ import annotations

import pytest
import requests

from support import Api, assert_no_store, unique, user_via_api


def test_a_new_personal_access_token_is_no_store(admin):
    user = user_via_api(admin)
    r = admin.post(f"/users/{user.id}/tokens", json={"name": unique("pat")})
    assert r.status_code == 201 and r.json()["accessToken"]
    assert_no_store(r)


def test_a_new_client_and_its_regenerated_secret_are_no_store(admin):
    r = admin.post("/oauth/clients", json={"name": unique("app"), "redirect": "https://app.example.org/cb"})
    assert r.status_code == 201 and r.json()["secret"]
    assert_no_store(r)
    again = admin.post(f"/oauth/clients/{r.json()['client_id']}/secret")
    assert again.status_code == 200 and again.json()["secret"] not in (None, r.json()["secret"])
    assert_no_store(again)


@pytest.mark.parametrize("method,path,status", [
    ("GET", "/users/me", 200),
    ("GET", "/users?per_page=1", 200),
    ("GET", "/users/{me}/tokens", 200),
    ("GET", "/oauth/clients", 200),
    ("GET", "/users/2147483647", 404),
    ("POST", "/groups", 422),
])
def test_every_api_answer_is_no_store_by_default(admin, method, path, status):
    me = admin.ok("GET", "/users/me")["id"]
    r = admin.request(method, path.format(me=me), json={} if method == "POST" else None)
    assert r.status_code == status, r.text[:300]
    assert_no_store(r)


def test_an_unauthenticated_api_answer_is_no_store(server):
    r = Api(server, "not-a-token").get("/users")
    assert r.status_code == 401
    assert_no_store(r)


@pytest.mark.parametrize("path", ["/api/1.0", "/api/1.0?page=1", "/api/1.0/"])
def test_the_bare_api_root_is_no_store_too(server, admin, path):
    """``/api/1.0`` itself, with no path after it, is the API as much as what is under it (RFC 9111 §5.2.2.5)."""
    for headers in ({"Authorization": f"Bearer {admin.token}"}, {}):
        r = requests.get(server.url(path), headers=headers, timeout=10)
        assert r.status_code == 404 and r.json() == {"error": "Not Found"}, r.text[:300]
        assert_no_store(r)
