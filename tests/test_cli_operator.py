"""The commands an operator reaches for (issue 14 item 3): users list|show|set-password|delete,
clients show|update|rotate-secret, groups, permissions grant|revoke, tokens revoke by id or value;
help on every option, --json on every command, one-line usage errors naming the flag, grant names
as the standards spell them, a name already in use, and the users import format.

Each command's effect is checked where it matters: at the token endpoint or the API, not only in
the command's own output.
"""

from __future__ import annotations

import argparse
import json

import pytest
import requests

from authgate.cli.main import build_parser
from support import Api, eventually, one_line_error, password_grant, token_request, unique, users_me

DEVICE_URN = "urn:ietf:params:oauth:grant-type:device_code"


@pytest.fixture(scope="module")
def pw_client(server):
    return server.create_client(grants=["password"])


def leaf_parsers(parser: argparse.ArgumentParser, path=()):
    subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not subs:
        yield path, parser
    for action in subs:
        for name, child in action.choices.items():
            yield from leaf_parsers(child, (*path, name))


def test_every_option_has_a_help_line_and_every_command_but_serve_prints_json():
    leaves = list(leaf_parsers(build_parser()))
    assert len(leaves) > 30
    for path, parser in leaves:
        for action in parser._actions:
            assert action.help, f"authgate {' '.join(path)}: {action.option_strings or action.dest} has no help"
        if path != ("serve",):
            assert any("--json" in a.option_strings for a in parser._actions), f"authgate {' '.join(path)} has no --json"


def test_an_unknown_flag_is_named_in_one_line(cli):
    line = one_line_error(cli("clients", "list", "--colour"))
    assert "--colour" in line and "--help" in line


def test_grant_names_as_the_standards_spell_them_and_key_algorithms_in_any_case():
    args = build_parser().parse_args(["clients", "create", "--name", "x", "--grant", DEVICE_URN, "--grant", "password"])
    assert args.grant == ["device_code", "password"]
    assert build_parser().parse_args(["keys", "rotate", "--alg", "es256"]).alg == "ES256"
    assert build_parser().parse_args(["keys", "rotate", "--alg", "EDDSA"]).alg == "EdDSA"


def test_a_client_made_with_the_device_grant_urn_can_start_a_device_flow(server):
    """RFC 8628 §3.4: the grant as grant_types_supported names it."""
    client = server.create_client(grants=[DEVICE_URN])
    assert client.data["grants"] == ["device_code", "refresh_token"]
    started = requests.post(server.url("/oauth/device"), data={"scope": "users:read"},
                            auth=client.basic, timeout=10)
    assert started.status_code == 200, started.text


def within_a_poll(request, status: int) -> int:
    """The CLI is another process: a server that cached what it changed hears of it at its next poll."""
    return eventually(lambda: request().status_code, lambda got: got == status, timeout=3)


def test_users_list_and_show(server, make_user):
    user = make_user()
    listed = server.cli_json("users", "list", "--filter", user.username)
    assert [u["username"] for u in listed["users"]] == [user.username] and listed["total"] == 1
    shown = server.cli_json("users", "show", user.username)
    assert shown["id"] == user.id and shown["groups"] == [] and shown["permissions"] == []
    assert "password" not in json.dumps(shown).replace("password_", "")


def test_users_set_password_changes_the_password_at_the_token_endpoint(server, cli, make_user, pw_client):
    user = make_user()
    assert password_grant(server, pw_client, user).status_code == 200
    proc = cli("users", "set-password", user.username, "--password-stdin", input="pw-New-Secret-99\n")
    assert proc.returncode == 0, proc.stderr
    assert password_grant(server, pw_client, user).status_code == 400
    user.password = "pw-New-Secret-99"
    assert password_grant(server, pw_client, user).status_code == 200


def test_a_lost_administrator_password_is_recovered_with_a_generated_one(server, make_user, pw_client):
    admin = make_user(admin=True)
    data = server.cli_json("users", "set-password", admin.username, "--generate")
    assert len(data["password"]) >= 12
    admin.password = data["password"]
    assert password_grant(server, pw_client, admin).status_code == 200


def test_users_delete_ends_what_they_hold(server, make_user, pw_client):
    user = make_user()
    pat = server.create_pat(user.username)["token"]
    assert server.cli_json("users", "delete", user.username)["deleted"] == user.username
    assert users_me(server, pat).status_code == 401
    assert password_grant(server, pw_client, user).status_code == 400
    assert server.cli_json("users", "list", "--filter", user.username)["total"] == 0
    assert server.cli_json("users", "list", "--deleted", "--filter", user.username)["total"] == 1


def test_a_second_user_with_a_name_in_use_is_refused(cli, make_user):
    user = make_user()
    line = one_line_error(cli("users", "create", user.username.upper(), "--email", "other@example.org",
                              "--password", "pw-Other-1234"))
    assert "taken" in line


def test_clients_show_update_and_rotate_secret(server, cli):
    client = server.create_client(grants=["password"])
    shown = server.cli_json("clients", "show", client.client_id)
    assert shown["client_id"] == client.client_id and "client_secret" not in shown
    name = unique("renamed")
    updated = server.cli_json("clients", "update", client.client_id, "--name", name, "--grant", "client_credentials")
    assert updated["name"] == name and updated["grants"] == ["client_credentials"]
    assert token_request(server, {"grant_type": "client_credentials"}, auth=client.basic).status_code == 200
    fresh = server.cli_json("clients", "rotate-secret", client.client_id)["client_secret"]
    assert within_a_poll(lambda: token_request(server, {"grant_type": "client_credentials"}, auth=client.basic),
                         401) == 401
    # the old secret can be refused before the server's client cache has heard of the new one (the write's own
    # check of the secret refuses it first): the new one works once the cache has, within a poll too
    assert within_a_poll(lambda: token_request(server, {"grant_type": "client_credentials"},
                                               auth=(client.client_id, fresh)), 200) == 200
    assert token_request(server, {"grant_type": "client_credentials"}, auth=client.basic).status_code == 401
    assert "nothing to change" in one_line_error(cli("clients", "update", client.client_id))


def test_a_second_client_with_a_name_in_use_warns_and_delete_by_name_suggests_the_id(server, cli):
    first = server.create_client()
    proc = cli("clients", "create", "--name", first.name, "--json")
    assert proc.returncode == 0 and "warning" in proc.stderr and first.client_id in proc.stderr
    second = json.loads(proc.stdout)["client_id"]
    line = one_line_error(cli("clients", "delete", first.name))
    assert first.client_id in line and second in line
    assert cli("clients", "delete", second).returncode == 0


def test_groups_and_permissions_reach_the_api(server, cli, make_user):
    user = make_user()
    api = Api(server, server.create_pat(user.username)["token"])
    assert api.get("/users").status_code == 403
    group = unique("ops")
    assert server.cli_json("groups", "create", group, "--description", "operators")["name"] == group
    server.cli_json("groups", "add-member", group, user.username)
    granted = server.cli_json("permissions", "grant", "--group", group, "view-users")
    assert granted["permissions"] == ["view-users"]
    assert group in [g["name"] for g in server.cli_json("groups", "list", "--filter", group)["groups"]]
    shown = server.cli_json("users", "show", user.username)
    assert shown["groups"] == [group] and shown["effective_permissions"] == ["view-users"]
    assert within_a_poll(lambda: api.get("/users"), 200) == 200
    server.cli_json("groups", "remove-member", group, user.username)
    assert within_a_poll(lambda: api.get("/users"), 403) == 403
    server.cli_json("permissions", "grant", "--user", user.username, "view-users", "edit-users")
    assert server.cli_json("permissions", "revoke", "--user", user.username, "edit-users")["permissions"] == ["view-users"]
    assert within_a_poll(lambda: api.get("/users"), 200) == 200
    assert "Unknown permission" in one_line_error(cli("permissions", "grant", "--user", user.username, "fly"))


def test_tokens_revoke_by_id_or_by_value_and_the_audit_log_says_so(server, cli, make_user, pw_client, admin):
    user = make_user()
    by_id, by_value = server.create_pat(user.username), server.create_pat(user.username)
    assert server.cli_json("tokens", "revoke", str(by_id["id"]))["id"] == by_id["id"]
    assert server.cli_json("tokens", "revoke", by_value["token"])["revoked"] == "personal_access_token"
    assert users_me(server, by_id["token"]).status_code == 401
    assert users_me(server, by_value["token"]).status_code == 401
    pair = password_grant(server, pw_client, user, scope="users:read").json()
    assert server.cli_json("tokens", "revoke", pair["refresh_token"])["revoked"] == "refresh_token"
    again = token_request(server, {"grant_type": "refresh_token", "refresh_token": pair["refresh_token"]},
                          auth=pw_client.basic)
    assert again.status_code == 400
    assert "neither a token id" in one_line_error(cli("tokens", "revoke", "agp_not-a-token"))
    logs = admin.ok("GET", "/security_logs", params={"per_page": 100, "order_direction": "desc"})["data"]
    revoked = [e for e in logs if e["event"] == "token.revoked" and e["user_id"] == user.id]
    assert {e["details"]["kind"] for e in revoked} >= {"personal_access_token", "refresh_token"}
    assert pair["refresh_token"] not in str(logs) and by_value["token"] not in str(logs)


def test_users_import_says_its_format_and_refuses_a_hash_in_the_password_column(server, cli, tmp_path):
    help_text = cli("users", "import", "--help").stdout
    for column in ("username", "email", "password_hash", "password", "firstname", "lastname", "is_administrator"):
        assert column in help_text
    name = unique("imp")
    bcrypt_hash = "$2y$10$" + "a" * 53
    path = tmp_path / "users.csv"
    path.write_text(f"username,email,password\n{name},{name}@example.org,{bcrypt_hash}\n")
    line = one_line_error(cli("users", "import", str(path)))
    assert "password_hash" in line and "row 1" in line
    assert server.cli_json("users", "list", "--filter", name)["total"] == 0
