"""Who may let a client read the directory (issue 12 item 1; OWASP API5 broken function-level
authorization). A client credentials token (RFC 6749 §4.4) acts for no user; it may list users and
groups only when its client was given ``users:read`` / ``groups:read`` by someone who may read them
(an administrator, a holder of ``view-users`` / ``view-groups``, or the operator at the CLI), and
only while that person still may. Everything is tried from the side that must be refused: a user who
holds only the ``*-auth_clients`` permissions, over the API and the admin pages, on create and edit.
"""

from __future__ import annotations

import pytest

from support import (
    Api, Browser, assert_forbidden, grant, parse_page, token_request, unique, user_via_api,
)

DIRECTORY = ["users:read", "groups:read"]


def pat(admin: Api, user_id: int) -> Api:
    """An Api with a personal access token of that user, every scope (made by the administrator)."""
    made = admin.ok("POST", f"/users/{user_id}/tokens", 201, json={"name": unique("pat"), "scopes": ["*"]})
    return Api(admin.server, made["accessToken"])


def person(admin: Api, *permissions: str, administrator: bool = False):
    user = user_via_api(admin)
    body = {"user_id": user.id, "permission_names": list(permissions)}
    if administrator:
        body["is_administrator"] = True
    admin.ok("PUT", "/permissions", 204, json=body)
    return user, pat(admin, user.id)


def service_token(server, client_id: str, secret: str) -> Api:
    r = token_request(server, {"grant_type": "client_credentials"}, auth=(client_id, secret))
    assert r.status_code == 200, r.text
    return Api(server, r.json()["access_token"])


def directory_token_refused(server, client_id: str, secret: str) -> bool:
    """A client whose every scope is a lapsed directory read gets no token (RFC 6749 §3.3: the request fails
    rather than giving a token the API would refuse)."""
    r = token_request(server, {"grant_type": "client_credentials"}, auth=(client_id, secret))
    return r.status_code == 400 and r.json()["error"] == "invalid_scope"


def reads_directory(service: Api) -> tuple[int, int]:
    return service.get("/users").status_code, service.get("/groups").status_code


def directory_client(api: Api, **extra) -> dict:
    return api.ok("POST", "/oauth/clients", 201, json={"name": unique("svc"), "types": ["client_credentials"],
                                                       "scopes": DIRECTORY, **extra})


def cli_client(server, **kw) -> dict:
    """A client made at the command line: it has no owner, so ``edit-auth_clients`` alone may change it."""
    made = server.create_client(**kw)
    return {"id": made.client_id, "secret": made.client_secret, "name": made.name}


def given_the_read_by(admin: Api, owner: Api) -> dict:
    """A service client ``owner`` made (their own to change), to which the administrator gave the directory read."""
    svc = owner.ok("POST", "/oauth/clients", 201, json={"name": unique("svc"), "types": ["client_credentials"],
                                                        "scopes": ["clients:read"]})
    admin.ok("PUT", f"/oauth/clients/{svc['id']}", json={"scopes": DIRECTORY})
    return svc


def assert_refused_directory_grant(r, *lacking: str) -> None:
    body = assert_forbidden(r)
    for name in lacking:
        assert name in body["reason"], body


def test_a_client_maker_cannot_register_a_client_that_reads_the_directory_owasp_api5(server, admin):
    _, maker = person(admin, "create-auth_clients", "view-auth_clients")
    name = unique("attack")
    r = maker.post("/oauth/clients", json={"name": name, "types": ["client_credentials"], "scopes": DIRECTORY})
    assert_refused_directory_grant(r, "view-users", "view-groups")
    assert admin.ok("GET", f"/oauth/clients?filter={name}")["data"] == []
    for one in DIRECTORY:
        r = maker.post("/oauth/clients", json={"name": name, "types": ["client_credentials"], "scopes": [one]})
        assert_refused_directory_grant(r, {"users:read": "view-users", "groups:read": "view-groups"}[one])
    # Controls: what the maker may still register.
    svc = maker.ok("POST", "/oauth/clients", 201, json={"name": name, "types": ["client_credentials"],
                                                        "scopes": ["clients:read"]})
    assert reads_directory(Api(server, token_request(server, {"grant_type": "client_credentials"},
                                                     auth=(svc["id"], svc["secret"])).json()["access_token"])) \
        == (403, 403)
    maker.ok("POST", "/oauth/clients", 201, json={"name": name, "redirect_uris": ["https://app.example.org/cb"],
                                                  "types": ["authorization_code"], "scopes": ["openid", *DIRECTORY]})


def test_an_editor_cannot_give_an_existing_client_the_directory_read(server, admin):
    _, editor = person(admin, "view-auth_clients", "edit-auth_clients")
    svc = cli_client(server, grants=["client_credentials"], scopes=["clients:read"])
    assert_refused_directory_grant(editor.put(f"/oauth/clients/{svc['id']}", json={"scopes": DIRECTORY}),
                                   "view-users", "view-groups")
    web = cli_client(server, redirect_uris=["https://app.example.org/cb"], grants=["authorization_code"],
                     scopes=DIRECTORY)
    r = editor.put(f"/oauth/clients/{web['id']}", json={"types": ["authorization_code", "client_credentials"]})
    assert_refused_directory_grant(r, "view-users", "view-groups")
    assert admin.ok("GET", f"/oauth/clients/{svc['id']}")["scopes"] == ["clients:read"]
    assert "client_credentials" not in admin.ok("GET", f"/oauth/clients/{web['id']}")["grants"]
    r = token_request(server, {"grant_type": "client_credentials"}, auth=(web["id"], web["secret"]))
    assert r.status_code == 400 and r.json()["error"] == "unauthorized_client", r.text


def test_an_editor_changing_a_service_client_an_administrator_gave_the_read_keeps_it(server, admin):
    _, editor = person(admin, "view-auth_clients", "create-auth_clients", "edit-auth_clients")
    svc = given_the_read_by(admin, editor)
    renamed = editor.ok("PUT", f"/oauth/clients/{svc['id']}", json={"name": unique("renamed")})
    assert renamed["scopes"] == DIRECTORY
    assert reads_directory(service_token(server, svc["id"], svc["secret"])) == (200, 200)
    editor.ok("PUT", f"/oauth/clients/{svc['id']}", json={"scopes": ["users:read"]})
    assert reads_directory(service_token(server, svc["id"], svc["secret"])) == (200, 403)
    assert_refused_directory_grant(editor.put(f"/oauth/clients/{svc['id']}", json={"scopes": DIRECTORY}),
                                   "view-groups")


def test_an_administrators_client_and_the_clis_read_the_directory(server, admin):
    svc = directory_client(admin)
    assert reads_directory(service_token(server, svc["id"], svc["secret"])) == (200, 200)
    made = server.create_client(grants=["client_credentials"], scopes=DIRECTORY)
    assert reads_directory(service_token(server, made.client_id, made.client_secret)) == (200, 200)


def test_a_holder_of_view_users_gives_only_what_they_hold(server, admin):
    _, holder = person(admin, "create-auth_clients", "view-users")
    assert_refused_directory_grant(holder.post("/oauth/clients", json={
        "name": unique("svc"), "types": ["client_credentials"], "scopes": DIRECTORY}), "view-groups")
    svc = holder.ok("POST", "/oauth/clients", 201, json={"name": unique("svc"), "types": ["client_credentials"],
                                                         "scopes": ["users:read"]})
    r = token_request(server, {"grant_type": "client_credentials"}, auth=(svc["id"], svc["secret"]))
    service = Api(server, r.json()["access_token"])
    assert service.get("/users").status_code == 200
    assert service.get("/groups").status_code == 403


@pytest.mark.parametrize("how", ["demoted", "deactivated", "deleted"])
def test_the_read_ends_when_its_granting_administrator_no_longer_may(server, admin, how):
    granter, granter_api = person(admin, administrator=True)
    svc = directory_client(granter_api)
    service = service_token(server, svc["id"], svc["secret"])
    assert reads_directory(service) == (200, 200)  # control
    if how == "demoted":
        admin.ok("PUT", "/permissions", 204, json={"user_id": granter.id, "permission_names": [],
                                                   "is_administrator": False})
    elif how == "deactivated":
        admin.ok("PUT", f"/users/{granter.id}", json={"status": "INACTIVE"})
    else:
        admin.ok("DELETE", f"/users/{granter.id}", 204)
    for path in ("/users", "/groups"):
        body = assert_forbidden(service.get(path))
        assert "client credentials" in body["reason"], body
    assert directory_token_refused(server, svc["id"], svc["secret"])
    asked = token_request(server, {"grant_type": "client_credentials", "scope": "users:read"}, auth=(svc["id"], svc["secret"]))
    assert asked.status_code == 400 and asked.json()["error"] == "invalid_scope", asked.text
    assert "no longer read the directory" in asked.json()["error_description"]
    admin.ok("PUT", f"/oauth/clients/{svc['id']}", json={"scopes": DIRECTORY})  # another administrator re-gives it
    assert service_scope(server, svc) == sorted(DIRECTORY)
    assert reads_directory(service) == (200, 200)


def test_the_read_ends_when_its_granter_loses_view_users(server, admin):
    holder, holder_api = person(admin, "create-auth_clients", "view-users")
    svc = holder_api.ok("POST", "/oauth/clients", 201, json={"name": unique("svc"), "types": ["client_credentials"],
                                                             "scopes": ["users:read", "clients:read"]})
    r = token_request(server, {"grant_type": "client_credentials"}, auth=(svc["id"], svc["secret"]))
    service = Api(server, r.json()["access_token"])
    assert service.get("/users").status_code == 200  # control
    grant(admin, holder.id, "create-auth_clients")
    assert_forbidden(service.get("/users"))
    assert service_scope(server, svc) == ["clients:read"]  # RFC 6749 §3.3: the narrower scope, named


def service_scope(server, svc) -> list[str]:
    """The scope a client credentials token of ``svc`` gets by default (the scope the response names)."""
    r = token_request(server, {"grant_type": "client_credentials"}, auth=(svc["id"], svc["secret"]))
    assert r.status_code == 200, r.text
    return sorted(r.json()["scope"].split())


# -- the admin pages ------------------------------------------------------------------------------


def signed_in(server, user) -> Browser:
    browser = Browser(server)
    assert browser.login(user).status_code in (200, 303)
    return browser


def post_form(browser: Browser, page_url: str, fields: list[tuple[str, str]]):
    page = browser.get(page_url)
    assert page.status_code == 200, f"GET {page_url}: {page.status_code} {page.text[:300]}"
    forms = [f for f in parse_page(page.text).forms if f.method == "post" and f.action == page_url]
    assert len(forms) == 1, f"no single form to {page_url}"
    return browser.post(page_url, data=[("csrf_token", forms[0].input("csrf_token")["value"]), *fields])


def directory_fields(name: str) -> list[tuple[str, str]]:
    return [("name", name), ("redirect_uris", ""), ("grants", "client_credentials"), ("kind", "confidential"),
            *[("scopes", s) for s in DIRECTORY]]


def test_the_admin_page_refuses_a_directory_client_on_create_and_edit(server, admin):
    maker, maker_api = person(admin, "view-auth_clients", "create-auth_clients", "edit-auth_clients")
    browser = signed_in(server, maker)
    name = unique("attack")
    r = post_form(browser, "/admin/auth-clients/new", directory_fields(name))
    assert r.status_code == 403, r.text[:500]
    text = parse_page(r.text).text
    assert "view-users" in text and "view-groups" in text, text[:2000]
    assert f'value="{name}"' in r.text  # the form again, filled in
    assert admin.ok("GET", f"/oauth/clients?filter={name}")["data"] == []

    svc = maker_api.ok("POST", "/oauth/clients", 201, json={"name": unique("svc"), "types": ["client_credentials"],
                                                            "scopes": ["clients:read"]})
    r = post_form(browser, f"/admin/auth-clients/{svc['id']}", directory_fields(svc["name"]))
    assert r.status_code == 403, r.text[:500]
    assert "view-users" in parse_page(r.text).text
    assert admin.ok("GET", f"/oauth/clients/{svc['id']}")["scopes"] == ["clients:read"]
    assert reads_directory(Api(server, token_request(server, {"grant_type": "client_credentials"},
                                                     auth=(svc["id"], svc["secret"])).json()["access_token"])) \
        == (403, 403)


# -- clients registered before the rule (migration 0008) ------------------------------------------


def run_sql(srv, *statements: tuple[str, tuple]) -> None:
    """Plain SQL on the server's database (to put it back as an older authgate left it)."""
    if hasattr(srv.db, "path"):
        import sqlite3

        with sqlite3.connect(srv.db.path) as con:
            for sql, params in statements:
                con.execute(sql.replace("%s", "?"), params)
    else:
        import psycopg

        with psycopg.connect(srv.db._libpq, autocommit=True) as con:
            for sql, params in statements:
                con.execute(sql, params)


def downgrade(srv, revision: str) -> None:
    """The stopped server's database back to ``revision``, by the migrations' own downgrades."""
    from alembic import command
    from sqlalchemy import create_engine

    from authgate.storage.migrate import _config

    engine = create_engine(srv.db.url)
    try:
        command.downgrade(_config(engine), revision)
    finally:
        engine.dispose()


def test_after_the_upgrade_only_clients_the_cli_or_an_administrator_set_up_keep_the_read(server_factory):
    """Migration 0008: the security log tells who last set a client's scopes or grants; the CLI or a
    (still active) administrator keeps the read, anyone else's client loses it until an administrator
    saves it again."""
    from support import admin_api

    srv = server_factory()
    admin = admin_api(srv)
    _, maker = person(admin, "view-auth_clients", "create-auth_clients", "edit-auth_clients")
    by_admin = given_the_read_by(admin, maker)
    maker.ok("PUT", f"/oauth/clients/{by_admin['id']}", json={"name": unique("renamed")})  # a rename is no grant
    at_cli = srv.create_client(grants=["client_credentials"], scopes=DIRECTORY)
    by_maker = maker.ok("POST", "/oauth/clients", 201, json={"name": unique("svc"), "types": ["client_credentials"],
                                                             "scopes": ["clients:read"]})
    edited = given_the_read_by(admin, maker)
    maker.ok("PUT", f"/oauth/clients/{edited['id']}", json={"scopes": ["clients:read"]})
    srv.stop(drop_database=False)
    legacy = '["users:read", "groups:read"]'
    downgrade(srv, "0007")
    run_sql(srv, ("UPDATE oauth_clients SET scopes = %s WHERE client_id IN (%s, %s)",
                  (legacy, by_maker["id"], edited["id"])))
    srv.start()  # authgate serve applies migration 0008

    assert reads_directory(service_token(srv, by_admin["id"], by_admin["secret"])) == (200, 200)
    assert reads_directory(service_token(srv, at_cli.client_id, at_cli.client_secret)) == (200, 200)
    for old in (by_maker, edited):
        assert admin.ok("GET", f"/oauth/clients/{old['id']}")["scopes"] == DIRECTORY
        assert directory_token_refused(srv, old["id"], old["secret"])
    maker.ok("PUT", f"/oauth/clients/{by_maker['id']}", json={"name": unique("renamed")})
    assert directory_token_refused(srv, by_maker["id"], by_maker["secret"])
    admin.ok("PUT", f"/oauth/clients/{by_maker['id']}", json={"name": unique("renamed")})  # an administrator saves it
    assert reads_directory(service_token(srv, by_maker["id"], by_maker["secret"])) == (200, 200)
