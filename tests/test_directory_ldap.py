"""LDAP sign-in and group sync (issue 18 item 6) against a real OpenLDAP server (``support/slapd.py``), through the
sign-in form over real HTTP: a directory is a provider of kind ``ldap``; a password the local check refuses is
tried against it (service bind, search with the username escaped per RFC 4515 §3, bind as the entry found: RFC
4513 §5.1.2 makes an empty password an unauthenticated bind that succeeds, so one is never sent); its users are
federated identities of the provider, created just in time, and its groups mapped to local ones at each sign-in.
The session's ``amr`` is ``pwd`` (RFC 8176 §2: the password was typed here, not asserted by another party)."""

from __future__ import annotations

import secrets
import socket
import subprocess
import threading
import time

import pytest

from support import Browser, api_for, free_port, unique
from support.slapd import GROUPS, PEOPLE, READER_DN, READER_PASSWORD, ROOT_DN, ROOT_PASSWORD, Slapd, missing

pytestmark = pytest.mark.skipif(missing() is not None, reason=missing() or "")

SECRET_KEY = "test-secret-key-" + "d" * 32
LOCKOUT = 3
FAILED = "Invalid username or password."


@pytest.fixture(scope="module")
def directory(tmp_path_factory):
    slapd = Slapd(tmp_path_factory.mktemp("slapd")).start()
    yield slapd
    slapd.stop()


@pytest.fixture(scope="module")
def groups(srv):
    admin = api_for(srv, "admin")
    made = {}
    for key in ("staff", "ops", "manual"):
        made[key] = admin.ok("POST", "/groups", 201, json={"name": unique(key)})
    return made


@pytest.fixture(scope="module")
def srv(server_factory, directory):
    return server_factory({"AUTHGATE_SECRET_KEY": SECRET_KEY, "AUTHGATE_LOCKOUT": f"{LOCKOUT}/900",
                           "AUTHGATE_LIMIT_LOGIN_PER_IP": "10000/300"})


@pytest.fixture(scope="module")
def corp(srv, directory, groups) -> dict:
    for cn in ("ldap-staff", "ldap-ops"):
        directory.add_group(cn, READER_DN)
    return add_directory(srv, directory.url, "--map-group", f"ldap-staff={groups['staff']['name']}",
                         "--map-group", f"LDAP-Ops={groups['ops']['name']}")


def add_directory(srv, url: str, *flags: str) -> dict:
    return srv.commands.run_json(
        "providers", "add", "--kind", "ldap", "--name", unique("corp"), "--ldap-url", url, "--bind-dn", READER_DN,
        "--bind-password-stdin", "--user-base", PEOPLE,
        "--user-filter", "(&(objectClass=inetOrgPerson)(uid={username}))", "--group-base", GROUPS, "--jit", *flags,
        input=READER_PASSWORD + "\n")


def sign_in(srv, username: str, password: str):
    browser = Browser(srv)
    return browser, browser.submit_login(*browser.login_page(), username, password)


def new_person(directory, prefix: str = "ada") -> tuple[str, str, str]:
    uid = unique(prefix)
    password = "ldap-" + secrets.token_urlsafe(10)
    return directory.add_user(uid, password, f"{uid}@corp.example"), uid, password


def events(srv, **params) -> list[dict]:
    r = api_for(srv, "admin").get("/security_logs", params={"per_page": 100, "order_direction": "desc", **params})
    assert r.status_code == 200, r.text
    return r.json()["data"]


def members(srv, group: dict) -> list[str]:
    return [u["username"] for u in api_for(srv, "admin").ok("GET", f"/groups/{group['id']}/users")["data"]]


def test_a_directory_user_signs_in_with_the_form_and_is_created_just_in_time(srv, directory, corp):
    dn, uid, password = new_person(directory)
    browser, r = sign_in(srv, uid, password)
    assert r.status_code == 303 and r.headers["location"] == "/", r.text[:500]
    assert "authgate_session" in browser.session.cookies.get_dict()  # what the refusals below look for
    home = browser.get("/")
    assert home.status_code == 200 and uid in home.text
    users = api_for(srv, "admin").ok("GET", "/users", params={"filter": uid})["data"]
    assert [(u["username"], u["email"]) for u in users] == [(uid, f"{uid}@corp.example")]
    succeeded = [e for e in events(srv, filter=uid) if e["event"] == "login.succeeded"]
    assert succeeded and succeeded[0]["details"]["amr"] == "pwd" and succeeded[0]["details"]["factor"] == "directory"
    # the second time, the same account (the link, not a second user)
    assert sign_in(srv, uid, password)[1].status_code == 303
    assert len(api_for(srv, "admin").ok("GET", "/users", params={"filter": uid})["data"]) == 1


def test_a_wrong_directory_password_is_refused_and_counts_towards_the_lockout(srv, directory, corp):
    _, uid, password = new_person(directory)
    for _ in range(LOCKOUT):
        browser, r = sign_in(srv, uid, "wrong-" + secrets.token_hex(4))
        assert r.status_code == 400 and FAILED in r.text
        assert "authgate_session" not in browser.session.cookies.get_dict()
    locked = sign_in(srv, uid, password)[1]
    assert locked.status_code == 429 and "locked" in locked.text


def test_an_empty_password_is_never_tried_rfc4513_5_1_2(srv, directory, corp):
    """An unauthenticated bind (a DN, no password) succeeds on LDAP: it must never pass for a sign-in."""
    _, uid, password = new_person(directory)
    r = sign_in(srv, uid, "")[1]
    assert r.status_code == 400 and FAILED in r.text
    assert api_for(srv, "admin").ok("GET", "/users", params={"filter": uid})["data"] == []


def test_filter_metacharacters_in_the_username_are_escaped_rfc4515_3(srv, directory, corp):
    """``*)(uid=*``, a wildcard (typed, or as the escape ``\\2a``) or NUL cannot widen the search to someone else's
    entry, even with their password; nor does a DN typed as the username (RFC 4514: it is never made into one)."""
    _, uid, password = new_person(directory, "inj")
    for typed in ("*)(uid=*", uid[:-3] + "*", "*", f"{uid})(|(uid=*", uid[:-3] + "\\2a", f"{uid}\x00",
                  f"{uid}\x00)(uid=*", f"uid={uid},{PEOPLE}", f"{uid},ou=x+cn=y"):
        browser, r = sign_in(srv, typed, password)
        assert r.status_code == 400 and (FAILED in r.text or "\x00" in typed), typed  # NUL: the form's own 400
        assert "Traceback" not in r.text and "authgate_session" not in browser.session.cookies.get_dict()
    assert api_for(srv, "admin").ok("GET", "/users", params={"filter": uid})["data"] == []


def test_mapped_groups_are_joined_and_left_at_each_sign_in(srv, directory, corp, groups):
    """Directory group names match in any case (``LDAP-Ops`` maps ``ldap-ops``); a membership the mapping does not
    manage stays."""
    dn, uid, password = new_person(directory)
    for cn in ("ldap-staff", "ldap-ops"):
        directory.modify(f"dn: cn={cn},{GROUPS}\nchangetype: modify\nadd: member\nmember: {dn}\n")
    assert sign_in(srv, uid, password)[1].status_code == 303
    assert uid in members(srv, groups["staff"]) and uid in members(srv, groups["ops"])
    user_id = api_for(srv, "admin").ok("GET", "/users", params={"filter": uid})["data"][0]["id"]
    api_for(srv, "admin").ok("POST", "/group_members", 201, json={"group_id": groups["manual"]["id"],
                                                                   "member_id": user_id})

    directory.remove_member("ldap-ops", dn)
    assert sign_in(srv, uid, password)[1].status_code == 303
    assert uid in members(srv, groups["staff"]) and uid not in members(srv, groups["ops"])
    assert uid in members(srv, groups["manual"])
    synced = [(e["event"], e["details"]["group"]) for e in events(srv, filter=uid)
              if e["event"] in ("federation.group_joined", "federation.group_left")]
    assert synced[0] == ("federation.group_left", groups["ops"]["name"])
    assert sorted(synced[1:]) == sorted([("federation.group_joined", groups["ops"]["name"]),
                                         ("federation.group_joined", groups["staff"]["name"])])


def test_a_username_several_entries_have_is_refused_not_the_first_taken(srv, directory, corp):
    """Two entries answer to the same ``uid``: the password is not tried against either (which of them would be
    whose account depends on the server's order)."""
    dn, uid, password = new_person(directory, "twin")
    directory.add(f"dn: cn={uid}-other,{PEOPLE}\nobjectClass: inetOrgPerson\ncn: {uid}-other\nsn: Other\n"
                  f"uid: {uid}\nmail: other-{uid}@corp.example\nuserPassword: {password}\n")
    r = sign_in(srv, uid, password)[1]
    assert r.status_code == 400 and FAILED in r.text
    assert api_for(srv, "admin").ok("GET", "/users", params={"filter": uid})["data"] == []


@pytest.mark.parametrize("how", ["deactivated", "deleted"])
def test_an_account_an_administrator_turned_off_is_refused_though_the_directory_says_yes(srv, directory, corp, how):
    _, uid, password = new_person(directory)
    assert sign_in(srv, uid, password)[1].status_code == 303
    admin = api_for(srv, "admin")
    user_id = admin.ok("GET", "/users", params={"filter": uid})["data"][0]["id"]
    if how == "deactivated":
        admin.ok("PUT", f"/users/{user_id}", json={"status": "INACTIVE"})
    else:
        admin.ok("DELETE", f"/users/{user_id}", 204)
    browser, r = sign_in(srv, uid, password)
    assert r.status_code == 400 and "Your account here is deactivated." in r.text
    assert "authgate_session" not in browser.session.cookies.get_dict()


def test_a_directory_user_whose_entry_is_gone_no_longer_signs_in(srv, directory, corp):
    dn, uid, password = new_person(directory)
    assert sign_in(srv, uid, password)[1].status_code == 303
    done = subprocess.run(["ldapdelete", "-x", "-H", directory.url, "-D", ROOT_DN, "-w", ROOT_PASSWORD, dn],
                          capture_output=True)
    assert done.returncode == 0, done.stderr
    r = sign_in(srv, uid, password)[1]
    assert r.status_code == 400 and FAILED in r.text


def test_a_new_entry_at_a_former_users_dn_does_not_get_their_account(server_factory, tmp_path):
    """A DN is no identity: Bob leaves, ``uid=bob`` is deleted, and the next Bob hired gets the same DN. Linked by
    DN, the new Bob would sign in to the old Bob's account (its groups, tokens, data). Without ``entryUUID`` (RFC
    4530) nor any other stable id, the directory's users are refused, never linked by DN."""
    bare = Slapd(tmp_path, hidden=("entryUUID",)).start()
    try:
        lonely = server_factory({"AUTHGATE_SECRET_KEY": SECRET_KEY})
        add_directory(lonely, bare.url)
        uid = unique("bob")
        dn = bare.add_user(uid, "first-bob-pw-1", f"{uid}@corp.example")
        first = sign_in(lonely, uid, "first-bob-pw-1")[1]
        done = subprocess.run(["ldapdelete", "-x", "-H", bare.url, "-D", ROOT_DN, "-w", ROOT_PASSWORD, dn],
                              capture_output=True)
        assert done.returncode == 0, done.stderr
        bare.add_user(uid, "second-bob-pw-2", f"{uid}.two@corp.example")
        browser, second = sign_in(lonely, uid, "second-bob-pw-2")
        assert "authgate_session" not in browser.session.cookies.get_dict(), (first.status_code, second.status_code)
        assert second.status_code in (400, 503) and "Traceback" not in second.text
    finally:
        bare.stop()


def test_a_local_account_with_the_directory_users_address_is_not_taken_over(srv, directory, corp):
    """The federation rules: no link by an address unless the directory links by email (it does not here), so a
    first sign-in whose address is a local account's is refused, with a plain page, and signs nobody in."""
    local = srv.create_user()
    uid = unique("dup")
    directory.add_user(uid, "dup-pw-123456", local.email)
    browser, r = sign_in(srv, uid, "dup-pw-123456")
    assert r.status_code == 400 and local.email in r.text
    assert "authgate_session" not in browser.session.cookies.get_dict()


def test_the_bind_password_is_sealed_at_rest_and_never_shown(srv, corp):
    assert corp["kind"] == "ldap" and corp["client_secret_set"] is True and READER_PASSWORD not in str(corp)
    assert corp["directory"]["user_base"] == PEOPLE
    shown = srv.cli("providers", "show", corp["name"])
    assert shown.returncode == 0 and READER_PASSWORD not in shown.stdout and "ldap-staff -> " in shown.stdout
    dump = srv.db.dump_text()
    assert READER_PASSWORD not in dump and "agenc:v1:" in dump
    listed = api_for(srv, "admin").ok("GET", "/providers")
    assert [p["kind"] for p in listed["data"] if p["name"] == corp["name"]] == ["ldap"]
    login = Browser(srv).get("/login")
    assert f"Sign in with {corp['name']}" not in login.text  # a directory is no button: its password is typed here


def test_a_directory_that_cannot_be_reached_is_a_plain_error(server_factory, directory):
    lonely = server_factory({"AUTHGATE_SECRET_KEY": SECRET_KEY})
    add_directory(lonely, f"ldap://127.0.0.1:{free_port()}")
    r = sign_in(lonely, "nobody-" + secrets.token_hex(3), "some-password")[1]
    assert r.status_code == 503 and "could not be reached" in r.text and "Traceback" not in r.text
    assert any(e["event"] == "directory.unreachable" for e in events(lonely))


@pytest.fixture
def silent_server():
    """A TCP port that accepts connections and never says a word (a stuck server, a port that is no LDAP)."""
    listener = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []

    def accept():
        while True:
            try:
                held.append(listener.accept()[0])
            except OSError:
                return

    threading.Thread(target=accept, daemon=True).start()
    yield listener.getsockname()[1]
    listener.close()
    for conn in held:
        conn.close()


@pytest.mark.parametrize("scheme", ["ldap", "ldaps"])
def test_a_directory_that_accepts_and_never_answers_is_a_plain_error_in_seconds(server_factory, silent_server,
                                                                                 scheme):
    """Over ldaps:// the TLS handshake is what waits: libldap's blocking handshake (GnuTLS) honours no timeout and
    spins, so the sign-in would never answer and the worker thread would burn a core for good."""
    lonely = server_factory({"AUTHGATE_SECRET_KEY": SECRET_KEY})
    add_directory(lonely, f"{scheme}://127.0.0.1:{silent_server}")
    started = time.monotonic()
    r = sign_in(lonely, "nobody-" + secrets.token_hex(3), "some-password")[1]
    assert r.status_code == 503 and "could not be reached" in r.text and "Traceback" not in r.text
    assert time.monotonic() - started < 12
    assert any(e["event"] == "directory.unreachable" for e in events(lonely))


def test_directory_settings_are_checked(srv):
    bad = srv.cli("providers", "add", "--kind", "ldap", "--name", unique("bad"), "--ldap-url", "http://x",
                  "--bind-dn", READER_DN, "--bind-password-stdin", "--user-base", PEOPLE, input="x\n")
    assert bad.returncode != 0 and "ldap://" in bad.stderr and "Traceback" not in bad.stderr
    no_placeholder = srv.cli("providers", "add", "--kind", "ldap", "--name", unique("bad"), "--ldap-url",
                             "ldap://127.0.0.1:1", "--bind-dn", READER_DN, "--bind-password-stdin", "--user-base",
                             PEOPLE, "--user-filter", "(uid=alice)", input="x\n")
    assert no_placeholder.returncode != 0 and "{username}" in no_placeholder.stderr
