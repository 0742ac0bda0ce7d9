"""Resource servers (RFC 8707 §2) managed through the API (``/api/1.0/resources``), the admin pages
(``/admin/resources``) and the CLI (``authgate resources ...``): administrators change them, holders of
``view-auth_clients`` read them, an ordinary user is refused everywhere, and authgate's own API is
listed and cannot be deleted. Real server over HTTP; the CLI as a subprocess."""

from __future__ import annotations

import json

import pytest

from support import Browser, User, api_for, parse_page, unique
from support.api import Api, grant, user_via_api


def identifier() -> str:
    return f"https://{unique('res')}.example.com/api"


@pytest.fixture(scope="module")
def admin_browser(server) -> Browser:
    browser = Browser(server)
    browser.login(User("admin", server.admin_password, "", 1))
    return browser


def submit(browser: Browser, page_url: str, action: str, data: dict | None = None):
    page = browser.get(page_url)
    assert page.status_code == 200, f"GET {page_url}: {page.status_code} {page.text[:300]}"
    forms = [form for form in parse_page(page.text).forms if form.method == "post" and form.action == action]
    assert len(forms) == 1, f"no single form to {action} on {page_url}"
    return browser.post(action, data={"csrf_token": forms[0].input("csrf_token")["value"], **(data or {})})


def own(admin) -> dict:
    listed = admin.ok("GET", "/resources", params={"per_page": 100})["data"]
    return next(r for r in listed if r["builtin"])


# -- the API ---------------------------------------------------------------------------------------


def test_api_crud_by_an_administrator(server, admin):
    """Create, list (ProcessMaker's envelope), show, update, delete; the identifier is kept as given."""
    uri = identifier()
    made = admin.ok("POST", "/resources", 201, json={"identifier": uri, "name": "Orders", "scopes": ["orders:read"],
                                                     "access_token_ttl": 300})
    assert made["identifier"] == uri and made["scopes"] == ["orders:read"] and made["builtin"] is False
    assert made["access_token_ttl"] == 300 and made["introspection"] is True
    listed = admin.ok("GET", "/resources", params={"filter": uri})
    assert listed["meta"]["total"] == 1 and listed["data"][0]["id"] == made["id"]
    assert admin.ok("GET", f"/resources/{made['id']}")["name"] == "Orders"
    changed = admin.ok("PUT", f"/resources/{made['id']}", json={"name": "Orders v2", "scopes": ["orders:read",
                       "orders:write"], "access_token_ttl": None, "introspection": False})
    assert changed["name"] == "Orders v2" and changed["access_token_ttl"] is None and changed["introspection"] is False
    admin.ok("DELETE", f"/resources/{made['id']}", 204)
    assert admin.get(f"/resources/{made['id']}").status_code == 404


def test_own_api_is_listed_and_not_deletable(server, admin):
    """authgate's own API is a resource server (identifier issuer + /api/1.0), made at start, kept."""
    mine = own(admin)
    assert mine["identifier"] == server.issuer + "/api/1.0" and "users:read" in mine["scopes"]
    refused = admin.delete(f"/resources/{mine['id']}")
    assert refused.status_code == 422 and "cannot be deleted" in json.dumps(refused.json())
    assert admin.put(f"/resources/{mine['id']}", json={"scopes": ["x"]}).status_code == 422
    assert admin.ok("PUT", f"/resources/{mine['id']}", json={"access_token_ttl": 900})["access_token_ttl"] == 900
    admin.ok("PUT", f"/resources/{mine['id']}", json={"access_token_ttl": None})


@pytest.mark.parametrize("uri,status", [("not a uri", 422), ("/relative", 422), ("https://x.example/#f", 422),
                                        ("urn:", 422)])
def test_api_refuses_malformed_identifiers(admin, uri, status):
    """RFC 8707 §2: an absolute URI without a fragment (ProcessMaker's 422 naming the field)."""
    r = admin.post("/resources", json={"identifier": uri, "name": "x"})
    assert r.status_code == status, r.text
    assert "identifier" in r.json()["errors"]


def test_api_refuses_taken_identifiers(server, admin):
    """A second resource with the same identifier, or the issuer itself: 409."""
    uri = identifier()
    admin.ok("POST", "/resources", 201, json={"identifier": uri, "name": "a"})
    assert admin.post("/resources", json={"identifier": uri, "name": "b"}).status_code == 409
    assert admin.post("/resources", json={"identifier": server.issuer, "name": "c"}).status_code == 409


def test_ordinary_user_is_refused_and_a_client_viewer_may_only_read(server, admin):
    """The permission is checked in the service: no permission: 403 on everything; ``view-auth_clients``:
    reading only; changes need an administrator."""
    person = user_via_api(admin)
    plain = api_for(server, person.username)
    assert plain.get("/resources").status_code == 403
    assert plain.post("/resources", json={"identifier": identifier(), "name": "x"}).status_code == 403
    viewer = user_via_api(admin)
    grant(admin, viewer.id, "view-auth_clients", "create-auth_clients", "delete-auth_clients")
    reader = api_for(server, viewer.username)
    mine = own(reader)
    assert reader.get(f"/resources/{mine['id']}").status_code == 200
    refused = reader.post("/resources", json={"identifier": identifier(), "name": "x"})
    assert refused.status_code == 403 and "administrator" in refused.json()["reason"]
    assert reader.delete(f"/resources/{mine['id']}").status_code == 403


def test_api_scopes_are_clients_scopes(server, admin):
    """RFC 6750 §3.1: the token needs ``clients:read`` to list (``clients:write`` to change)."""
    token = server.create_pat("admin", scopes=["users:read"])["token"]
    r = Api(server, token).get("/resources")
    assert r.status_code == 403 and r.json()["error"] == "insufficient_scope"


def test_a_client_may_be_limited_to_a_resources_scope(server, admin):
    """A client's scope list may name scopes a resource server defines (and no unknown one)."""
    uri = identifier()
    admin.ok("POST", "/resources", 201, json={"identifier": uri, "name": "r", "scopes": ["reports:read"]})
    made = admin.ok("POST", "/oauth/clients", 201, json={"name": "c", "types": ["password"],
                                                         "scopes": ["reports:read"]})
    assert made["scopes"] == ["reports:read"]
    bad = admin.post("/oauth/clients", json={"name": "c", "types": ["password"], "scopes": ["nobody:defines"]})
    assert bad.status_code == 422


# -- the admin pages -------------------------------------------------------------------------------


def test_admin_pages_create_edit_delete(server, admin_browser):
    """The Resources page lists, registers, edits and deletes (with a confirmation), with CSRF tokens."""
    listing = admin_browser.get("/admin/resources")
    assert listing.status_code == 200 and "authgate API" in listing.text
    assert 'href="/admin/resources"' in listing.text
    uri = identifier()
    r = submit(admin_browser, "/admin/resources/new", "/admin/resources/new",
               {"identifier": uri, "name": "Page API", "scopes": "page:read page:write", "access_token_ttl": "600",
                "introspection": "on"})
    assert r.status_code == 303, r.text[:500]
    listing = admin_browser.get("/admin/resources?q=" + uri)
    assert "Page API" in listing.text and "page:write" in listing.text
    found = [line for line in listing.text.split('href="/admin/resources/')[1:] if "Page API" in line[:200]]
    rid = found[0].split('"')[0]
    edited = submit(admin_browser, f"/admin/resources/{rid}", f"/admin/resources/{rid}",
                    {"name": "Page API 2", "scopes": "page:read", "access_token_ttl": ""})
    assert edited.status_code == 303
    page = admin_browser.get(f"/admin/resources/{rid}")
    assert "Page API 2" in page.text and "page:write" not in page.text
    bad = submit(admin_browser, f"/admin/resources/{rid}", f"/admin/resources/{rid}",
                 {"name": "x", "access_token_ttl": "soon"})
    assert bad.status_code == 422 and "access_token_ttl" in bad.text
    gone = submit(admin_browser, f"/admin/resources/{rid}/delete", f"/admin/resources/{rid}/delete")
    assert gone.status_code == 303
    assert admin_browser.get(f"/admin/resources/{rid}").status_code == 404


def test_admin_page_of_own_api_has_no_delete(server, admin_browser, admin):
    mine = own(admin)
    page = admin_browser.get(f"/admin/resources/{mine['id']}")
    assert page.status_code == 200 and f"/admin/resources/{mine['id']}/delete" not in page.text
    refused = submit(admin_browser, f"/admin/resources/{mine['id']}/delete", f"/admin/resources/{mine['id']}/delete")
    assert refused.status_code == 422 and "cannot be deleted" in refused.text


def test_admin_pages_refuse_an_ordinary_user(server, make_user):
    person = make_user()
    browser = Browser(server)
    browser.login(person)
    for url in ("/admin/resources", "/admin/resources/new"):
        r = browser.get(url)
        assert r.status_code == 403 and "Not allowed" in r.text, url
    assert 'href="/admin/resources"' not in browser.get("/profile").text


# -- the CLI ---------------------------------------------------------------------------------------


def test_cli_create_list_show_delete(server):
    """``authgate resources create --identifier URI --scope S...``, ``list``, ``show``, ``delete``."""
    uri = identifier()
    made = server.cli_json("resources", "create", "--identifier", uri, "--name", "CLI API", "--scope", "cli:read",
                           "--scope", "cli:write")
    assert made["identifier"] == uri and made["scopes"] == ["cli:read", "cli:write"]
    listed = server.cli_json("resources", "list")["resources"]
    assert uri in [r["identifier"] for r in listed] and any(r["builtin"] for r in listed)
    assert server.cli_json("resources", "show", uri)["name"] == "CLI API"
    assert server.cli_json("resources", "show", str(made["id"]))["identifier"] == uri
    text = server.cli("resources", "show", uri)
    assert text.returncode == 0 and "cli:read cli:write" in text.stdout
    assert server.cli_json("resources", "delete", uri) == {"deleted": uri}
    missing = server.cli("resources", "show", uri)
    assert missing.returncode == 1 and missing.stderr.startswith("authgate: error:") and len(missing.stderr.splitlines()) == 1


def test_cli_refuses_deleting_own_api_and_bad_identifiers(server):
    refused = server.cli("resources", "delete", server.issuer + "/api/1.0")
    assert refused.returncode == 1 and "cannot be deleted" in refused.stderr
    bad = server.cli("resources", "create", "--identifier", "relative/path")
    assert bad.returncode == 1 and "absolute URI" in bad.stderr
