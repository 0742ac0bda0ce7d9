"""The admin commands: users, groups, permissions, clients, tokens, keys, migrations.

Each one is a call to the services, acting as the system (``SYSTEM``: the operator at the server's
console), in one transaction; the services make every check and write every audit record.
"""

from __future__ import annotations

import importlib
import json
import sys
from datetime import timedelta

from authgate.cli.output import emit
from authgate.services.accounts.people.principal import SYSTEM
from authgate.services.errors import Invalid, NotFound
from authgate.services.operations.bootstrap import generated_admin_password
from authgate.services.operations.listing import MAX_PER_PAGE, ListQuery
from authgate.services.runtime import Runtime
from authgate.settings import Settings
from authgate.storage import schema
from authgate.storage.types import utcnow


class _OnFirstUse:
    """A module imported when a command first reads from it: a command that shows no client never loads the
    client service (the runtime builds the services the same way)."""

    def __init__(self, name: str):
        self._name = name

    def __getattr__(self, attr: str):
        return getattr(importlib.import_module(self._name), attr)


group_views = _OnFirstUse("authgate.services.accounts.people.groups")
user_import = _OnFirstUse("authgate.services.accounts.people.user_import")
user_views = _OnFirstUse("authgate.services.accounts.people.users")
session_views = _OnFirstUse("authgate.services.accounts.sessions.user_sessions")
client_views = _OnFirstUse("authgate.services.applications.clients")
token_views = _OnFirstUse("authgate.services.credentials.personal_tokens")


def status(settings: Settings, args) -> None:
    """What this command line would use, read without making or changing anything."""
    found = schema.state(settings.database_url)
    keys = []
    if found.current:
        runtime = Runtime.open(settings, eager=False)
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
    head, _ = schema.migrations()
    emit(args.json, {"revision": head}, ["Database is up to date."])


def _password(args) -> str | None:
    """The password given by --password-stdin or --password (None for --generate)."""
    if getattr(args, "password_stdin", False):
        if sys.stdin.isatty():
            print("Password (then Enter):", file=sys.stderr, flush=True)
        return sys.stdin.readline().rstrip("\r\n")
    return args.password


def users_create(runtime: Runtime, args) -> None:
    password = _password(args)
    if password is None:
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
    emit(args.json, {"unlocked": username}, [f"Unlocked {username!r}."])


def users_sessions(runtime: Runtime, args) -> None:
    with runtime.db.session(write=False) as s:
        user = runtime.users.by_username(s, args.username)
        page = runtime.user_sessions.list_for(s, SYSTEM, user.id).map(session_views.public_view)
        username = user.username
    lines = [f"{r['id']}  {r['device']}  {r['ip'] or '-'}  started {r['started_at'][:16]}  "
             f"last seen {(r['last_seen_at'] or '-')[:16]}" for r in page.items] or [f"{username!r} is signed in nowhere."]
    if page.total > len(page.items):
        lines.append(f"(the newest {len(page.items)} of {page.total})")
    emit(args.json, {"username": username, "sessions": page.items, "total": page.total}, lines)


def users_end_sessions(runtime: Runtime, args) -> None:
    """Every running server sees it at the browser's next request: sessions are read from the database each time."""
    with runtime.db.session() as s:
        user = runtime.users.by_username(s, args.username)
        ended = runtime.user_sessions.end_all_for(s, SYSTEM, user.id)
        username = user.username
    emit(args.json, {"username": username, "ended": ended},
         [f"Ended {ended} session{'' if ended == 1 else 's'} of {username!r}."])


def users_list(runtime: Runtime, args) -> None:
    query = ListQuery(filter=args.filter, per_page=min(args.per_page, MAX_PER_PAGE), page=args.page)
    with runtime.db.session(write=False) as s:
        page = runtime.users.list(s, SYSTEM, query, deleted=args.deleted)
        rows = [user_views.public_view(u) for u in page.items]
    lines = [f"{u['id']}  {u['username']}  {u['email']}  {u['status']}" + ("  administrator" if u["is_administrator"] else "")
             for u in rows] or ["No users."]
    if page.total > len(rows):
        lines.append(f"({len(rows)} of {page.total}; see --page)")
    emit(args.json, {"users": rows, "total": page.total, "page": page.query.page}, lines)


def users_show(runtime: Runtime, args) -> None:
    with runtime.db.session(write=False) as s:
        user = runtime.users.by_username(s, args.username)
        groups = [group.name for _, group in runtime.groups.memberships_of(s, SYSTEM, user.id)]
        direct = sorted(runtime.permissions.direct_names_of_user(s, user))
        effective = sorted(runtime.permissions.names_of_user(s, user))
        data = user_views.public_view(user) | {"groups": groups, "permissions": direct, "effective_permissions": effective}
    emit(args.json, data, [
        f"{data['username']} (id {data['id']}), {data['email']}, {data['status']}"
        + (", administrator (every permission)" if data["is_administrator"] else ""),
        f"Groups: {', '.join(groups) or 'none'}",
        f"Permissions held directly: {', '.join(direct) or 'none'}",
        f"Permissions through groups: {', '.join(sorted(set(effective) - set(direct))) or 'none'}",
    ])


def users_set_password(runtime: Runtime, args) -> None:
    """Also the way back in for an administrator who lost their password: it ends their lockout too."""
    password = generated_admin_password() if args.generate else _password(args)
    with runtime.db.session() as s:
        user = runtime.users.by_username(s, args.username)
        runtime.users.update(s, SYSTEM, user.id, {"password": password}, revoke_personal_tokens=args.revoke_tokens)
        runtime.login_guard.unlock(s, SYSTEM, user.id)
        username = user.username
    data = {"username": username, "personal_tokens_revoked": args.revoke_tokens}
    lines = [f"Set the password of {username!r}; their sessions and tokens from the password grant ended"
             + (", and their personal access tokens are revoked." if args.revoke_tokens else ".")]
    if args.generate:
        data["password"] = password
        lines += [f"New password: {password}", "Keep it now: it is not shown again."]
    emit(args.json, data, lines)


def users_delete(runtime: Runtime, args) -> None:
    with runtime.db.session() as s:
        user = runtime.users.by_username(s, args.username)
        runtime.users.delete(s, SYSTEM, user.id)
        data = {"deleted": user.username, "id": user.id}
    emit(args.json, data, [f"Deleted user {data['deleted']!r} (id {data['id']}); their tokens and sessions no longer work."])


def users_reset_factors(runtime: Runtime, args) -> None:
    """A lost phone or security key: the authenticator app, the recovery codes and the passkeys go (audited)."""
    with runtime.db.session() as s:
        user = runtime.users.by_username(s, args.username)
        removed = runtime.factors.reset(s, SYSTEM, user.id)
        username = user.username
    what = (f"{removed['totp']} authenticator app(s), {removed['recovery']} recovery code(s) and "
            f"{removed['passkey']} passkey(s)")
    emit(args.json, {"username": username, "removed": removed},
         [f"Removed {what} of {username!r}: their password alone signs them in again."])


def _register_grants() -> None:
    """Fill in the grant registry the client service checks names against: the grants' names only
    (``oauth/grants/specs.py``), not their classes, which import Authlib."""
    importlib.import_module("authgate.oauth.grants.specs")


def _jwks_file(path: str | None) -> dict | None:
    if not path:
        return None
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError) as error:
        raise Invalid(f"--jwks-file {path}: {error}") from None


def clients_create(runtime: Runtime, args) -> None:
    _register_grants()
    with runtime.db.session() as s:
        namesakes = [c.client_id for c in runtime.clients.list(s) if c.name == args.name]
        owner = runtime.users.by_username(s, args.owner) if args.owner else None
        client, secret = runtime.clients.create(
            s,
            args.name,
            redirect_uris=args.redirect_uri or [],
            grants=args.grant,
            scopes=args.scope or [],
            public=args.public,
            owner_id=owner.id if owner else None,
            logout=_logout_values(args),
            auth_method=args.auth_method,
            jwks=_jwks_file(args.jwks_file),
            jwks_uri=args.jwks_uri,
            profile=args.profile,
        )
        data = client_views.public_view(client) | {"client_secret": secret}
    if namesakes:
        print(f"authgate: warning: a client named {args.name!r} already exists ({', '.join(namesakes)}); "
              "users will not tell them apart on the consent page", file=sys.stderr)
    lines = [f"Client ID: {data['client_id']}"]
    if secret:
        lines.append(f"Client secret: {secret}")
        lines.append("Keep the secret now: it is stored hashed and will not be shown again.")
    lines.append(f"Grants: {' '.join(data['grants'])}")
    emit(args.json, data, lines)


def _logout_values(args) -> dict:
    """The sign-out options given (``--post-logout-redirect-uri ''`` alone clears the list)."""
    given = {"post_logout_redirect_uris": [u for u in args.post_logout_redirect_uri if u]
             if args.post_logout_redirect_uri is not None else None,
             "backchannel_logout_uri": args.backchannel_logout_uri,
             "backchannel_logout_session_required": args.backchannel_logout_session_required}
    return {name: value for name, value in given.items() if value is not None}


def clients_list(runtime: Runtime, args) -> None:
    _register_grants()
    with runtime.db.session() as s:
        rows = [client_views.public_view(c) for c in runtime.clients.list(s)]
    lines = [f"{c['id'] if c['id'] == c['client_id'] else c['id'] + '  ' + c['client_id']}  {c['name']}  "
             f"[{' '.join(c['grants'])}]{'  disabled' if c['disabled_at'] else ''}" for c in rows] or ["No clients."]
    emit(args.json, {"clients": rows}, lines)


def _client_lines(data: dict) -> list[str]:
    return [
        f"{data['name']} ({data['client_id']}), {'public' if data['public'] else 'confidential'}",
        f"Grants: {' '.join(data['grants']) or 'none'}",
        f"Redirect URIs: {' '.join(data['redirect_uris']) or 'none'}",
        f"Scopes: {' '.join(data['scopes']) or 'any the user holds'}",
        f"Authenticates with: {data['token_endpoint_auth_method']}"
        + (f" (keys at {data['jwks_uri']})" if data.get("jwks_uri") else " (inline keys)" if data.get("jwks") else ""),
        *([f"Registered itself (dynamic registration) at {data['registered_at']}"] if data.get("registered_at") else []),
        *([f"Post-logout redirect URIs: {' '.join(data['post_logout_redirect_uris'])}"]
          if data.get("post_logout_redirect_uris") else []),
        *([f"Back-channel logout URI: {data['backchannel_logout_uri']}"
           + (" (sid required)" if data["backchannel_logout_session_required"] else "")]
          if data.get("backchannel_logout_uri") else []),
        *(["Must push its authorization requests (PAR)"] if data.get("require_pushed_authorization_requests") else []),
        *(["Must prove a DPoP key at the token endpoint"] if data.get("dpop_bound_access_tokens") else []),
        *([f"Known by its metadata document; addressed as {data['id']}"] if data.get("metadata_document") else []),
        *([f"Disabled at {data['disabled_at']}"] if data.get("disabled_at") else []),
        *(["Must sign its authorization requests (request objects)"] if data.get("require_signed_request_object")
          else []),
        *(["Held to the FAPI 2.0 Security Profile"] if data.get("profile") == "fapi2" else []),
    ]


def clients_show(runtime: Runtime, args) -> None:
    _register_grants()
    with runtime.db.session(write=False) as s:
        data = client_views.public_view(_client(runtime, s, args.client_id))
    emit(args.json, data, _client_lines(data))


def clients_update(runtime: Runtime, args) -> None:
    _register_grants()
    values = {name: value for name, value in (("name", args.name), ("redirect_uris", args.redirect_uri),
                                              ("grants", args.grant), ("scopes", args.scope),
                                              ("token_endpoint_auth_method", args.auth_method),
                                              ("jwks", _jwks_file(args.jwks_file)), ("jwks_uri", args.jwks_uri),
                                              ("require_par", args.require_par), ("require_dpop", args.require_dpop),
                                              ("require_request_object", args.require_signed_request_object),
                                              ("profile", args.profile))
              if value is not None}
    values |= _logout_values(args)
    if not values:
        raise Invalid("nothing to change: give --name, --redirect-uri, --grant, --scope, --auth-method, --jwks-file, "
                      "--jwks-uri, --[no-]require-par, --[no-]require-dpop, --[no-]require-signed-request-object, "
                      "--profile or a sign-out option")
    with runtime.db.session() as s:
        _client(runtime, s, args.client_id)
        data = client_views.public_view(runtime.clients.update(s, SYSTEM, args.client_id, values))
    emit(args.json, data, ["Updated the client.", *_client_lines(data)])


def clients_rotate_secret(runtime: Runtime, args) -> None:
    _register_grants()
    with runtime.db.session() as s:
        _client(runtime, s, args.client_id)
        client, secret = runtime.clients.regenerate_secret(s, SYSTEM, args.client_id)
        data = {"client_id": client.client_id, "client_secret": secret}
    emit(args.json, data, [f"Client secret: {secret}",
                           "The old secret no longer works. Keep this one now: it will not be shown again."])


def clients_delete(runtime: Runtime, args) -> None:
    _register_grants()
    with runtime.db.session() as s:
        _client(runtime, s, args.client_id)
        runtime.clients.delete(s, args.client_id)
    emit(args.json, {"deleted": args.client_id}, [f"Deleted client {args.client_id}; its tokens no longer work."])


def clients_disable(runtime: Runtime, args) -> None:
    _register_grants()
    with runtime.db.session() as s:
        _client(runtime, s, args.client_id)
        data = client_views.public_view(runtime.clients.disable(s, SYSTEM, args.client_id))
    emit(args.json, data, [f"Disabled client {data['client_id']}: it can no longer sign anyone in or get tokens, "
                           "and its tokens no longer work (enabling it again does not bring them back)."])


def clients_enable(runtime: Runtime, args) -> None:
    _register_grants()
    with runtime.db.session() as s:
        _client(runtime, s, args.client_id)
        data = client_views.public_view(runtime.clients.enable(s, SYSTEM, args.client_id))
    emit(args.json, data, [f"Enabled client {data['client_id']}; it must get new tokens."])


def _client(runtime: Runtime, s, client_id: str):
    """The client with this id (or ``doc-N`` key); given a name instead, the error says which id it has."""
    try:
        return runtime.clients.by_key(s, client_id)
    except NotFound:
        pass
    named = [c.client_id for c in runtime.clients.list(s) if c.name == client_id]
    if named:
        raise NotFound(f"no client with id {client_id!r}; a client named so has the id {' or '.join(named)} "
                       "(commands take the id)")
    raise NotFound(f"no client with id {client_id!r} (see `authgate clients list`)")


def _group(runtime: Runtime, s, name: str):
    """The group with this name (or id)."""
    if name.isdigit():
        return runtime.groups.get(s, SYSTEM, int(name))
    page = runtime.groups.list(s, SYSTEM, ListQuery(filter=name, per_page=MAX_PER_PAGE))
    for group in page.items:
        if group.name == name:
            return group
    raise NotFound(f"no group named {name!r} (see `authgate groups list`)")


def groups_list(runtime: Runtime, args) -> None:
    with runtime.db.session(write=False) as s:
        page = runtime.groups.list(s, SYSTEM, ListQuery(filter=args.filter, per_page=MAX_PER_PAGE))
        rows = [group_views.public_view(g) | {"permissions": sorted(runtime.permissions.names_of_group(s, g))}
                for g in page.items]
    lines = [f"{g['id']}  {g['name']}  {g['status']}  permissions: {' '.join(g['permissions']) or 'none'}"
             for g in rows] or ["No groups."]
    emit(args.json, {"groups": rows, "total": page.total}, lines)


def groups_create(runtime: Runtime, args) -> None:
    with runtime.db.session() as s:
        data = group_views.public_view(runtime.groups.create(s, SYSTEM, {"name": args.name, "description": args.description}))
    emit(args.json, data, [f"Created group {data['name']!r} (id {data['id']})."])


def groups_add_member(runtime: Runtime, args) -> None:
    with runtime.db.session() as s:
        group, user = _group(runtime, s, args.group), runtime.users.by_username(s, args.username)
        runtime.groups.add_member(s, SYSTEM, group.id, user.id, None)
        data = {"group": group.name, "username": user.username}
    emit(args.json, data, [f"Added {data['username']!r} to {data['group']!r}."])


def groups_remove_member(runtime: Runtime, args) -> None:
    with runtime.db.session() as s:
        group, user = _group(runtime, s, args.group), runtime.users.by_username(s, args.username)
        membership = runtime.groups.membership(s, group.id, user.id)
        if membership is None:
            raise NotFound(f"{user.username!r} is not a member of {group.name!r}")
        runtime.groups.remove_member(s, SYSTEM, membership.id)
        data = {"group": group.name, "username": user.username}
    emit(args.json, data, [f"Took {data['username']!r} out of {data['group']!r}."])


def permissions_list(runtime: Runtime, args) -> None:
    query = ListQuery(per_page=MAX_PER_PAGE)
    with runtime.db.session(write=False) as s:
        rows = [p for p in runtime.permissions.list(s, query).items]
        if args.user:
            held = runtime.permissions.names_of_user(s, runtime.users.by_username(s, args.user))
            rows = [p for p in rows if p.name in held]
        elif args.group:
            held = runtime.permissions.names_of_group(s, _group(runtime, s, args.group))
            rows = [p for p in rows if p.name in held]
        data = [{"name": p.name, "title": p.title, "group": p.category} for p in rows]
    emit(args.json, {"permissions": data},
         [f"{p['name']:<28} {p['title']}" for p in data] or ["No permissions."])


def _change_permissions(runtime: Runtime, args, change) -> dict:
    """Grant or revoke: the holder's direct permissions become ``change(current, named)``."""
    with runtime.db.session() as s:
        runtime.permissions.catalog(s, args.names)
        if args.user:
            holder = runtime.users.by_username(s, args.user)
            current = runtime.permissions.direct_names_of_user(s, holder)
            runtime.permissions.assign(s, SYSTEM, user_id=holder.id, names=sorted(change(current, set(args.names))))
            data = {"user": holder.username, "permissions": sorted(runtime.permissions.direct_names_of_user(s, holder))}
        else:
            holder = _group(runtime, s, args.group)
            current = runtime.permissions.names_of_group(s, holder)
            runtime.permissions.assign(s, SYSTEM, group_id=holder.id, names=sorted(change(current, set(args.names))))
            data = {"group": holder.name, "permissions": sorted(runtime.permissions.names_of_group(s, holder))}
    return data


def permissions_grant(runtime: Runtime, args) -> None:
    data = _change_permissions(runtime, args, set.union)
    who = data.get("user") or data.get("group")
    emit(args.json, data, [f"{who!r} now holds: {', '.join(data['permissions']) or 'nothing'}."])


def permissions_revoke(runtime: Runtime, args) -> None:
    data = _change_permissions(runtime, args, set.difference)
    who = data.get("user") or data.get("group")
    emit(args.json, data, [f"{who!r} now holds: {', '.join(data['permissions']) or 'nothing'}."])


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
    """By a personal access token's id, or by any token's value (what the revocation endpoint does)."""
    given = args.token.strip()
    with runtime.db.session() as s:
        if given.isdigit():
            runtime.personal_tokens.revoke(s, int(given))
            data, line = {"revoked": "personal_access_token", "id": int(given)}, f"Revoked personal access token {given}."
        else:
            presented = runtime.token_lookup.find(s, given)
            if presented is None:
                raise NotFound("that is neither a token id nor a token this server issued")
            runtime.token_lookup.revoke(s, presented, actor=SYSTEM)
            kind = presented.kind.replace("_", " ")
            data = {"revoked": presented.kind}
            line = f"Revoked the {kind}" + (" and the grant it belongs to." if presented.kind == "refresh_token" else ".")
    emit(args.json, data, [line])


def keys_rotate(runtime: Runtime, args) -> None:
    if args.for_resources:
        with runtime.db.session() as s:
            made = runtime.keys.rotate_for_resources(s, now=args.now)
        emit(args.json, {"keys": [k.as_dict() for k in made]}, [
            f"New signing key {k.kid} ({k.alg}) for resource servers; the key it replaces stays published until "
            "its tokens expire." for k in made] or ["No key signs for resource servers yet: nothing to rotate."])
        return
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
        factors = runtime.factors.reseal(s)
        providers = runtime.providers.reseal(s)
    emit(args.json, {"signing_keys": keys, "server_secrets": secrets_, "second_factors": factors,
                     "identity_providers": providers},
         [f"Encrypted {keys} signing key(s), {secrets_} server secret(s), {factors} second factor secret(s) and "
          f"{providers} identity provider secret(s) under the current secret key."])


def _link_out(args, username: str, issued, what: str) -> None:
    """The link printed when it was not mailed; with --json ``link`` only then."""
    data = {"username": username, "mailed": issued.mailed, "expires_at": issued.expires_at.isoformat()}
    if issued.mailed:
        lines = [f"Mailed {what} to {username!r} (it works until {issued.expires_at:%Y-%m-%d %H:%M} UTC)."]
    else:
        data["link"] = issued.url
        lines = [f"{what[0].upper()}{what[1:]} for {username!r}, until {issued.expires_at:%Y-%m-%d %H:%M} UTC "
                 "(give it to them only):", issued.url]
    emit(args.json, data, lines)


def users_invite(runtime: Runtime, args) -> None:
    mail = not args.print
    with runtime.db.session() as s:
        if args.email:
            user, issued = runtime.invitations.invite(s, SYSTEM, args.username, args.email, firstname=args.firstname,
                                                      lastname=args.lastname, is_administrator=args.admin, mail=mail)
        else:
            user = runtime.users.by_username(s, args.username)
            issued = runtime.invitations.reinvite(s, SYSTEM, user.id, mail=mail)
        username = user.username
    _link_out(args, username, issued, "an invitation link")


def users_reset_link(runtime: Runtime, args) -> None:
    with runtime.db.session() as s:
        issued = runtime.password_reset.link_for(s, args.username, mail=not args.print)
    _link_out(args, args.username, issued, "a password reset link")


def users_verify_link(runtime: Runtime, args) -> None:
    with runtime.db.session() as s:
        user = runtime.users.by_username(s, args.username)
        issued = runtime.email_verification.issue(s, user, mail=not args.print)
    _link_out(args, args.username, issued, "an email verification link")
