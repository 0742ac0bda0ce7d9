"""Passwords (issue 7 §3): users imported from ProcessMaker / Laravel keep their bcrypt hashes
(`$2y$`, `$2b$`), sign in with them, and are upgraded to argon2id at the next sign-in; an import
with one bad row writes nothing; the optional policy refuses short and breached passwords."""

from __future__ import annotations

import json
import re

import bcrypt

from support import Browser, User, password_grant, unique


def laravel_hash(password: str, prefix: str = "$2y$") -> str:
    return bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=4)).decode().replace("$2b$", prefix, 1)


HASH = re.compile(r"\$(?:2[aby]|argon2id)\$[^\s,|()\"]+")


def stored_hash(server, username: str) -> str:
    """The password hash on the user's row, whatever the database's dump format."""
    line = next(line for line in server.db.dump_text().splitlines() if username in line and HASH.search(line))
    return HASH.search(line).group(0)


def test_bcrypt_users_sign_in_and_are_upgraded_to_argon2id(server, tmp_path):
    people = [(unique("lara"), "old-secret-1", "$2y$"), (unique("vel"), "old-secret-2", "$2b$")]
    rows = [
        {"username": name, "email": f"{name}@example.org", "password_hash": laravel_hash(pw, prefix),
         "firstname": "Imported", "lastname": "User"}
        for name, pw, prefix in people
    ]
    path = tmp_path / "users.json"
    path.write_text(json.dumps(rows))
    result = server.cli_json("users", "import", str(path))
    assert result == {"imported": 2}

    client = server.create_client(grants=["password"])
    for name, pw, prefix in people:
        assert stored_hash(server, name).startswith(prefix)
        user = User(username=name, password=pw, email=f"{name}@example.org", id=0, data={})
        assert Browser(server).login(user).status_code == 303
        assert stored_hash(server, name).startswith("$argon2id$"), "upgraded at sign-in"
        assert password_grant(server, client, user).status_code == 200, "still the same password"


def test_csv_import_with_a_bad_row_writes_nothing(server, tmp_path):
    good, bad = unique("good"), unique("bad")
    path = tmp_path / "users.csv"
    path.write_text(
        "username,email,password_hash\n"
        f"{good},{good}@example.org,{laravel_hash('pw-12345678')}\n"
        f"{bad},not-an-email,{laravel_hash('pw-12345678')}\n"
    )
    proc = server.cli("users", "import", str(path))
    assert proc.returncode != 0
    assert "row 2" in proc.stderr and "Traceback" not in proc.stderr
    assert good not in server.db.dump_text()


def test_import_refuses_unknown_hash_formats(server, tmp_path):
    name = unique("md5")
    path = tmp_path / "users.csv"
    path.write_text(f"username,email,password_hash\n{name},{name}@example.org,5f4dcc3b5aa765d61d8327deb882cf99\n")
    proc = server.cli("users", "import", str(path))
    assert proc.returncode != 0 and "bcrypt" in proc.stderr


def test_password_policy_length_and_breached_list(server_factory, tmp_path):
    blocklist = tmp_path / "breached.txt"
    blocklist.write_text("password123\nletmein-please\n")
    srv = server_factory({"AUTHGATE_PASSWORD_MIN_LENGTH": "10", "AUTHGATE_PASSWORD_BLOCKLIST": str(blocklist)})
    for password, reason in (("short-pw", "at least 10"), ("LetMeIn-Please", "breached")):
        proc = srv.cli("users", "create", unique("p"), "--email", f"{unique('p')}@example.org", "--password-stdin",
                       input=password)
        assert proc.returncode != 0 and reason in proc.stderr, proc.stderr
    assert srv.create_user(password="long-and-unlisted").username
