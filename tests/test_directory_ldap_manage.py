"""LDAP directories managed through the JSON API and the admin page (issue 18), as the CLI manages them: one made
with ``POST /api/1.0/providers`` (``kind: "ldap"``, its URL as ``issuer``, bind DN as ``client_id``, bind password
as the write-only ``client_secret``, a ``directory`` object) lets a directory user sign in on the form, against a
real OpenLDAP server (``support/slapd.py``); one added and edited on ``/admin/identity-providers`` likewise. The
bind password is never shown back; a non-administrator is refused and makes nothing; bad directory settings are a
422 naming the field."""

from __future__ import annotations

import pytest

import test_directory_ldap
from support import Browser, User, api_for, assert_forbidden, assert_invalid, parse_page, unique
from support.slapd import GROUPS, PEOPLE, READER_DN, READER_PASSWORD, missing
from test_directory_ldap import SECRET_KEY, new_person, sign_in
from test_ui_admin_identity_providers import BASE, error_on

pytestmark = pytest.mark.skipif(missing() is not None, reason=missing() or "")

USER_FILTER = "(&(objectClass=inetOrgPerson)(uid={username}))"
directory = test_directory_ldap.directory  # the fixture: a slapd of this module's own


@pytest.fixture(scope="module")
def srv(server_factory, directory):
    return server_factory({"AUTHGATE_SECRET_KEY": SECRET_KEY, "AUTHGATE_LIMIT_LOGIN_PER_IP": "10000/300"})


@pytest.fixture(scope="module")
def admin(srv) -> Browser:
    browser = Browser(srv)
    browser.login(User("admin", srv.admin_password, "", None))
    return browser


def ldap_body(slapd, **more) -> dict:
    return {"kind": "ldap", "name": unique("dir"), "issuer": slapd.url, "client_id": READER_DN,
            "client_secret": READER_PASSWORD, "allow_jit": True,
            "directory": {"user_base": PEOPLE, "user_filter": USER_FILTER, "group_base": GROUPS}, **more}


def names(srv) -> list[str]:
    return [p["name"] for p in srv.commands.run_json("providers", "list")["providers"]]


def alone(srv) -> None:
    """Disable every directory already there, so that a sign-in can only pass through the next one."""
    api = api_for(srv, "admin")
    for p in api.ok("GET", "/providers")["data"]:
        if p["kind"] == "ldap" and p["enabled"]:
            api.ok("PUT", f"/providers/{p['id']}", json={"enabled": False})


def form_of(page, action: str) -> dict:
    """What a browser sends of the form posting to ``action``: its inputs, checked boxes only, and the kind selected
    (the page parser does not read options)."""
    [form] = [f for f in parse_page(page.text).forms if f.method == "post" and f.action == action]
    sent = {}
    for i in form.inputs:
        if not i.get("name") or (i.get("type") == "checkbox" and "checked" not in i):
            continue
        sent[i["name"]] = i.get("value", "")
    if "kind" in sent:
        sent["kind"] = "ldap" if '<option value="ldap" selected>' in page.text else "oidc"
    return sent


def test_an_ldap_directory_added_through_the_api_signs_people_in_on_the_form(srv, directory):
    alone(srv)
    group = api_for(srv, "admin").ok("POST", "/groups", 201, json={"name": unique("staff")})
    directory.add_group(cn := unique("ldap-staff"), READER_DN)
    body = ldap_body(directory, group_mappings=[{"upstream": cn, "group": group["name"]}])
    made = api_for(srv, "admin").ok("POST", "/providers", 201, json=body)
    assert made["kind"] == "ldap" and made["issuer"] == directory.url and made["client_id"] == READER_DN
    assert made["client_secret_set"] is True and READER_PASSWORD not in str(made)
    assert made["directory"] == {"user_base": PEOPLE, "user_filter": USER_FILTER, "group_base": GROUPS,
                                 "group_filter": "(member={dn})"}
    shown = api_for(srv, "admin").ok("GET", f"/providers/{made['id']}")
    assert shown["directory"] == made["directory"] and READER_PASSWORD not in str(shown)

    dn, uid, password = new_person(directory)
    directory.modify(f"dn: cn={cn},{GROUPS}\nchangetype: modify\nadd: member\nmember: {dn}\n")
    browser, r = sign_in(srv, uid, password)
    assert r.status_code == 303 and uid in browser.get("/").text, r.text[:500]
    members = api_for(srv, "admin").ok("GET", f"/groups/{group['id']}/users")["data"]
    assert [u["username"] for u in members] == [uid]

    # an edit of the directory alone keeps the rest; a user base where nobody is stops the sign-ins
    moved = api_for(srv, "admin").ok("PUT", f"/providers/{made['id']}", json={"directory": {"user_base": GROUPS}})
    assert moved["directory"] == {**made["directory"], "user_base": GROUPS} and moved["client_secret_set"]
    assert sign_in(srv, uid, password)[1].status_code == 400


def test_bad_directory_settings_through_the_api_are_a_422_naming_the_field(srv, directory):
    api = api_for(srv, "admin")
    assert_invalid(api.post("/providers", json=ldap_body(directory, directory={})), "user_base")
    assert_invalid(api.post("/providers", json=ldap_body(directory, directory={
        "user_base": PEOPLE, "user_filter": "(uid=alice)"})), "user_filter")
    assert_invalid(api.post("/providers", json=ldap_body(directory, issuer="https://ldap.example")), "issuer")
    assert_invalid(api.post("/providers", json=ldap_body(directory, scopes=["openid"])), "scopes")
    assert_invalid(api.post("/providers", json=ldap_body(directory, claims={"subject": "id"})), "claims")
    oidc = {"name": unique("x"), "issuer": "https://idp.example", "client_id": "c", "client_secret": "s",
            "check_discovery": False, "directory": {"user_base": PEOPLE}}
    assert_invalid(api.post("/providers", json=oidc), "directory")
    made = api.ok("POST", "/providers", 201, json=ldap_body(directory))
    r = api.put(f"/providers/{made['id']}", json={"directory": {"group_filter": "(member=someone)"}})
    assert_invalid(r, "group_filter")
    assert api.ok("GET", f"/providers/{made['id']}")["directory"] == made["directory"]  # nothing saved


def test_someone_who_is_not_an_administrator_cannot_add_or_change_a_directory(srv, directory):
    person = srv.create_user()
    api = api_for(srv, person.username)
    before = names(srv)
    body = ldap_body(directory)
    assert_forbidden(api.post("/providers", json=body))
    existing = api_for(srv, "admin").ok("POST", "/providers", 201, json=ldap_body(directory))
    assert_forbidden(api.put(f"/providers/{existing['id']}", json={"directory": {"user_base": GROUPS}}))
    assert sorted(names(srv)) == sorted([*before, existing["name"]])  # the refused one was not made
    assert srv.commands.run_json("providers", "show", existing["name"])["directory"]["user_base"] == PEOPLE

    browser = Browser(srv)
    browser.login(person)
    assert browser.get(f"{BASE}/new?kind=ldap").status_code == 403


def test_an_administrator_adds_and_edits_a_directory_on_the_admin_page(srv, admin, directory):
    alone(srv)
    listed = admin.get(BASE)
    assert f"{BASE}/new?kind=ldap" in listed.text
    new = admin.get(f"{BASE}/new?kind=ldap")
    page = parse_page(new.text)
    assert new.status_code == 200 and "Bind DN" in page.text and "User base DN" in page.text
    assert "Scopes" not in page.text and "check_discovery" not in new.text
    name = unique("corp")
    sent = {**form_of(new, f"{BASE}/new"), "name": name, "issuer": directory.url, "client_id": READER_DN,
            "client_secret": READER_PASSWORD, "user_base": PEOPLE, "user_filter": USER_FILTER,
            "group_base": GROUPS, "allow_jit": "on"}
    assert sent["kind"] == "ldap"
    added = admin.post(f"{BASE}/new", data=sent)
    assert added.status_code == 303, added.text[:2000]
    assert f"LDAP directory “{name}” added" in parse_page(admin.get(BASE).text).text
    shown = srv.commands.run_json("providers", "show", name)
    assert shown["kind"] == "ldap" and shown["directory"]["user_base"] == PEOPLE and shown["client_secret_set"]
    _, uid, password = new_person(directory)
    assert sign_in(srv, uid, password)[1].status_code == 303

    edit = f"{BASE}/{shown['id']}"
    form = admin.get(edit)
    assert READER_PASSWORD not in form.text and "one is set: leave empty to keep it" in parse_page(form.text).text
    assert f'value="{PEOPLE}"' in form.text and f'value="{directory.url}"' in form.text
    kept = admin.post(edit, data={**form_of(form, edit), "group_base": "", "client_secret": ""})
    assert kept.status_code == 303, kept.text[:2000]
    again = srv.commands.run_json("providers", "show", name)
    assert again["directory"]["group_base"] is None and again["client_secret_set"]
    assert sign_in(srv, uid, password)[1].status_code == 303  # the password was kept

    wrong = admin.post(edit, data={**form_of(form, edit), "user_filter": "(uid=alice)"})
    assert wrong.status_code == 422 and "{username}" in error_on(wrong, "user_filter")
    assert srv.commands.run_json("providers", "show", name)["directory"]["user_filter"] == USER_FILTER
    bad_url = admin.post(f"{BASE}/new", data={**sent, "name": unique("corp"), "issuer": "https://x"})
    assert bad_url.status_code == 422 and "ldap://" in error_on(bad_url, "issuer")
    assert READER_PASSWORD not in bad_url.text
