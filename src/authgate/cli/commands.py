"""The admin commands: users, clients, personal access tokens, migrations."""

from __future__ import annotations

import importlib
import sys
from datetime import timedelta

from authgate.cli.output import emit
from authgate.services import clients as client_views
from authgate.services import personal_tokens as token_views
from authgate.services import user_import
from authgate.services.runtime import Runtime
from authgate.services.errors import Invalid
from authgate.settings import Settings
from authgate.storage import schema
from authgate.storage.types import utcnow


def status(settings: Settings, args) -> None:
    """What this command line would use, read without making or changing anything."""
    found = schema.state(settings.database_url)
    keys = []
    if found.current:
        runtime = Runtime.open(settings)
        with runtime.db.session(write=False) as s:
            keys = [k.as_dict() for k in runtime.keys.list(s)]
        runtime.db.dispose()
    data = {
        "issuer": settings.issuer,
        "home": settings.home,
        "database": schema.display_url(settings.database_url),
        "migrations": {"current": found.current, "revision": found.revision, "head": found.head},
        "signing_keys": keys,
    }
    counts = {}
    for key in keys:
        counts[key["status"]] = counts.get(key["status"], 0) + 1
    emit(args.json, data, [
        f"Issuer:       {settings.issuer}",
        f"Home:         {settings.home} (AUTHGATE_HOME)",
        f"Database:     {data['database']} (AUTHGATE_DATABASE_URL)",
        f"Migrations:   {found.describe()}",
        "Signing keys: " + (", ".join(f"{n} {name}" for name, n in counts.items()) if keys else "none yet"),
    ])


def db_upgrade(runtime: Runtime, args) -> None:
    print("Database is up to date.")


def users_create(runtime: Runtime, args) -> None:
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    elif args.password is not None:
        password = args.password
    else:
        raise Invalid("give the password with --password-stdin or --password")
    with runtime.db.session() as s:
        user = runtime.users.create(s, args.username, args.email, password, is_administrator=args.admin)
        data = {"id": user.id, "username": user.username, "email": user.email, "is_administrator": user.is_administrator}
    emit(args.json, data, [f"Created user {user.username!r} (id {user.id})."])


def users_import(runtime: Runtime, args) -> None:
    with open(args.file, encoding="utf-8") as handle:
        rows = user_import.parse(handle.read(), args.file)
    with runtime.db.session() as s:
        count = user_import.import_users(s, runtime.users, rows)
    emit(args.json, {"imported": count}, [f"Imported {count} user(s); bcrypt passwords become argon2id at next sign-in."])


def users_unlock(runtime: Runtime, args) -> None:
    """Every running server applies the unlock within a second, through the database (and Redis if set)."""
    with runtime.db.session() as s:
        user = runtime.login_guard.unlock_named(s, args.username)
        username = user.username
    print(f"Unlocked {username!r}.")


def _register_grants() -> None:
    """Fill in the grant registry the client service checks names against (the protocol core registers
    its grants when imported; only the commands that name grants pay for that import)."""
    importlib.import_module("authgate.oauth.grants.registry")


def clients_create(runtime: Runtime, args) -> None:
    _register_grants()
    with runtime.db.session() as s:
        owner = runtime.users.by_username(s, args.owner) if args.owner else None
        client, secret = runtime.clients.create(
            s,
            args.name,
            redirect_uris=args.redirect_uri or [],
            grants=args.grant,
            scopes=args.scope or [],
            public=args.public,
            owner_id=owner.id if owner else None,
        )
        data = client_views.public_view(client) | {"client_secret": secret}
    lines = [f"Client ID: {data['client_id']}"]
    if secret:
        lines.append(f"Client secret: {secret}")
        lines.append("Keep the secret now: it is stored hashed and will not be shown again.")
    lines.append(f"Grants: {' '.join(data['grants'])}")
    emit(args.json, data, lines)


def clients_list(runtime: Runtime, args) -> None:
    _register_grants()
    with runtime.db.session() as s:
        rows = [client_views.public_view(c) for c in runtime.clients.list(s)]
    lines = [f"{c['client_id']}  {c['name']}  [{' '.join(c['grants'])}]" for c in rows] or ["No clients."]
    emit(args.json, {"clients": rows}, lines)


def clients_delete(runtime: Runtime, args) -> None:
    _register_grants()
    with runtime.db.session() as s:
        runtime.clients.delete(s, args.client_id)
    print(f"Deleted client {args.client_id}; its tokens no longer work.")


def tokens_create(runtime: Runtime, args) -> None:
    expires_at = utcnow() + timedelta(days=args.expires_in) if args.expires_in else None
    with runtime.db.session() as s:
        user = runtime.users.by_username(s, args.user)
        row, token = runtime.personal_tokens.create(s, user, args.name, args.scope, expires_at)
        data = token_views.public_view(row) | {"token": token, "user": user.username}
    emit(args.json, data, [f"Token id: {row.id}", f"Token: {token}", "Keep it now: it will not be shown again."])


def tokens_list(runtime: Runtime, args) -> None:
    with runtime.db.session() as s:
        user = runtime.users.by_username(s, args.user)
        rows = [token_views.public_view(t) for t in runtime.personal_tokens.list(s, user)]
    lines = [
        f"{t['id']}  {t['name']}  scopes={' '.join(t['scopes'])}  expires={t['expires_at']}"
        + ("  (revoked)" if t["revoked"] else "")
        for t in rows
    ] or ["No tokens."]
    emit(args.json, {"tokens": rows}, lines)


def tokens_purge(runtime: Runtime, args) -> None:
    counts = runtime.purge.run(args.batch_size)
    emit(args.json, {"deleted": counts}, [f"{name}: {n} deleted" for name, n in counts.items()])


def tokens_revoke(runtime: Runtime, args) -> None:
    with runtime.db.session() as s:
        runtime.personal_tokens.revoke(s, args.token_id)
    print(f"Revoked personal access token {args.token_id}.")


def keys_rotate(runtime: Runtime, args) -> None:
    with runtime.db.session() as s:
        info = runtime.keys.rotate(s, args.alg, now=args.now)
    when = "signs now" if info.status(utcnow()) == "active" else f"published now, signs from {info.activates_at.isoformat()}"
    emit(args.json, info.as_dict(), [
        f"New signing key {info.kid} ({info.alg}): {when}; the key it replaces stays published until its tokens expire."])


def keys_list(runtime: Runtime, args) -> None:
    with runtime.db.session(write=False) as s:
        rows = [k.as_dict() for k in runtime.keys.list(s)]
    lines = [
        f"{k['kid']}  {k['alg']}  {k['status']}" + (f" ({', '.join(k['signs'])})" if k["signs"] else "")
        + f"  created={k['created_at']}"
        + (f"  activates={k['activates_at']}" if k["status"] == "next" else "")
        + (f"  published_until={k['published_until']}" if k["published_until"] else "")
        for k in rows
    ] or ["No keys."]
    emit(args.json, {"keys": rows}, lines)


def keys_remove(runtime: Runtime, args) -> None:
    with runtime.db.session() as s:
        info = runtime.keys.remove(s, args.kid)
    emit(args.json, {"removed": info.kid}, [f"Removed key {info.kid}: tokens it signed are refused from now on."])


def keys_encrypt(runtime: Runtime, args) -> None:
    with runtime.db.session() as s:
        keys, secrets_ = runtime.keys.encrypt_at_rest(s)
    emit(args.json, {"signing_keys": keys, "server_secrets": secrets_},
         [f"Encrypted {keys} signing key(s) and {secrets_} server secret(s) under the current secret key."])
