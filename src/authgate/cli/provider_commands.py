"""``authgate providers ...``: the upstream identity providers people may sign in with, as the operator
(``SYSTEM``). The client secret is read from standard input (``--client-secret-stdin``), never from an argument
other local users could see, and never printed. Saving an OpenID Connect provider reads its discovery document
first, as the admin page does (``--no-check`` for a set-up offline)."""

from __future__ import annotations

import sys

from authgate.cli.output import emit
from authgate.services.accounts.people.principal import SYSTEM
from authgate.services.directory.settings import LDAP
from authgate.services.errors import Invalid
from authgate.services.federation.providers import DISCOVERY_FIELDS, ENDPOINTS
from authgate.services.federation.sign_in import callback_path
from authgate.services.runtime import Runtime


def _secret(args) -> str | None:
    if not (args.client_secret_stdin or args.bind_password_stdin):
        return None
    if sys.stdin.isatty():
        print("Bind password" if args.bind_password_stdin else "Client secret", "(then Enter):", file=sys.stderr,
              flush=True)
    return sys.stdin.readline().rstrip("\r\n")


def _directory(args) -> dict:
    """The LDAP settings given (``--user-base`` ...), as the ``directory`` value."""
    return {key: getattr(args, key) for key in ("user_base", "user_filter", "group_base", "group_filter")
              if getattr(args, key) is not None}


def _ldap_names(args) -> dict:
    """``--ldap-url`` and ``--bind-dn`` stored where an OpenID provider keeps its issuer and client id."""
    return {key: value for key, value in (("issuer", args.ldap_url), ("client_id", args.bind_dn)) if value}


def _lines(runtime: Runtime, data: dict) -> list[str]:
    rules = [label for flag, label in (("allow_jit", "creates accounts just in time"),
                                       ("link_verified_email", "links by verified email"),
                                       ("allow_private_network", "may be on a private network")) if data[flag]]
    mappings = [f"  {m['upstream']} -> {m['group']}" for m in data["group_mappings"]]
    if data["kind"] == LDAP:
        d = data.get("directory") or {}
        return [
            f"{data['name']} (ldap, {'enabled' if data['enabled'] else 'disabled'}), id {data['id']}",
            f"Directory: {data['issuer']}; bind DN {data['client_id']}; password "
            f"{'set' if data['client_secret_set'] else 'not set'}",
            f"Users: {d.get('user_base')} {d.get('user_filter')}",
            f"Groups: {d.get('group_base') or '(not read)'} {d.get('group_filter')}",
            f"Accounts: {', '.join(rules[:2]) or 'only those already linked'}",
            f"Group mappings: {len(mappings) or 'none'}", *mappings,
        ]
    endpoints = [f"{label}: {data[key]}" for key, label in (
        ("authorization_url", "Authorization URL"), ("token_url", "Token URL"), ("userinfo_url", "Userinfo URL"))
        if data[key]]
    claims = " ".join(f"{key}={claim}" for key, claim in sorted(data["claims"].items()) if key != "groups")
    return [
        f"{data['name']} ({data['kind']}, {'enabled' if data['enabled'] else 'disabled'}), id {data['id']}",
        f"Issuer: {data['issuer'] or '(none)'}",
        *endpoints,
        f"Client id: {data['client_id']}; secret {'set' if data['client_secret_set'] else 'not set'}",
        f"Scopes: {' '.join(data['scopes'])}",
        f"Accounts: {', '.join(rules) or 'only those already linked'}",
        f"Claims: {claims or 'the standard ones'}",
        f"Groups claim: {data['groups_claim'] or '(none)'}",
        f"Group mappings: {len(mappings) or 'none'}", *mappings,
        f"Callback URL to register at the provider: {runtime.settings.issuer + callback_path(data['name'])}",
    ]


def _flags(args) -> dict:
    values = {}
    for flag in ("enabled", "allow_jit", "link_verified_email", "allow_private_network"):
        value = getattr(args, flag, None)
        if value is not None:
            values[flag] = value
    return values


def _mapping(args) -> dict:
    values = {endpoint: getattr(args, endpoint) for endpoint in ENDPOINTS if getattr(args, endpoint) is not None}
    if args.claim:
        values["claims"] = args.claim
    if args.groups_claim is not None:
        values["groups_claim"] = args.groups_claim
    if args.map_group:
        values["group_mappings"] = args.map_group
    return values


def providers_add(runtime: Runtime, args) -> None:
    secret = _secret(args)
    if args.kind == LDAP:
        if not (args.ldap_url and args.bind_dn and args.user_base):
            raise Invalid("an LDAP directory needs --ldap-url, --bind-dn and --user-base")
        if secret is None:
            raise Invalid("give the bind password with --bind-password-stdin")
        with runtime.db.session() as s:
            row = runtime.providers.create(s, args.name, args.ldap_url, args.bind_dn, secret, kind=LDAP,
                                           directory=_directory(args), allow_jit=bool(args.jit),
                                           link_verified_email=bool(args.link_verified_email),
                                           group_mappings=args.map_group or (), enabled=not args.disabled,
                                           actor=SYSTEM)
            data = runtime.providers.described(s, row)
        return emit(args.json, data, ["Added the LDAP directory.", *_lines(runtime, data)])
    if not args.client_id or (args.kind != "oauth2" and not args.issuer):
        raise Invalid("an OpenID provider needs --issuer and --client-id; a plain OAuth 2.0 one --client-id")
    if secret is None:
        raise Invalid("give the client secret with --client-secret-stdin")
    values = {"kind": args.kind, "name": args.name, "issuer": args.issuer, "client_id": args.client_id,
              "scopes": args.scope or [], "allow_jit": bool(args.jit),
              "link_verified_email": bool(args.link_verified_email),
              "allow_private_network": bool(args.allow_private_network), **_mapping(args)}
    if not args.no_check:
        runtime.providers.check_discovery(SYSTEM, values)
    values.pop("kind"), values.pop("name")
    issuer, client_id = values.pop("issuer"), values.pop("client_id")
    with runtime.db.session() as s:
        row = runtime.providers.create(s, args.name, issuer, client_id, secret, kind=args.kind,
                                       enabled=not args.disabled, actor=SYSTEM, **values)
        data = runtime.providers.described(s, row)
    emit(args.json, data, ["Added the identity provider.", *_lines(runtime, data)])


def providers_list(runtime: Runtime, args) -> None:
    with runtime.db.session(write=False) as s:
        rows = [runtime.providers.described(s, row) for row in runtime.providers.list(s, SYSTEM)]
    lines = [f"{r['id']}  {r['name']}  {r['kind']}  {r['issuer'] or r['authorization_url']}  "
             f"{'enabled' if r['enabled'] else 'disabled'}" for r in rows]
    emit(args.json, {"providers": rows}, lines or ["No identity providers."])


def providers_show(runtime: Runtime, args) -> None:
    with runtime.db.session(write=False) as s:
        data = runtime.providers.described(s, runtime.providers.visible(s, SYSTEM, args.provider))
    emit(args.json, data, _lines(runtime, data))


def providers_update(runtime: Runtime, args) -> None:
    values = _flags(args)
    for name in ("issuer", "client_id"):
        if getattr(args, name) is not None:
            values[name] = getattr(args, name)
    if args.scope:
        values["scopes"] = args.scope
    values.update(_ldap_names(args))
    if _directory(args):
        values["directory"] = _directory(args)
    values.update(_mapping(args))
    if args.no_group_mappings:
        if args.map_group:
            raise Invalid("give --map-group or --no-group-mappings, not both")
        values["group_mappings"] = []
    secret = _secret(args)
    if secret is not None:
        values["client_secret"] = secret
    if not values:
        raise Invalid("nothing to change: give --issuer, --client-id, --client-secret-stdin, --scope, a URL, a "
                      "mapping or a flag")
    if not args.no_check and DISCOVERY_FIELDS & set(values):
        with runtime.db.session(write=False) as s:
            current = runtime.providers.visible(s, SYSTEM, args.provider)
        runtime.providers.check_discovery(SYSTEM, values, current)
    with runtime.db.session() as s:
        row = runtime.providers.update(s, SYSTEM, args.provider, values)
        data = runtime.providers.described(s, row)
    emit(args.json, data, ["Changed the identity provider.", *_lines(runtime, data)])


def providers_delete(runtime: Runtime, args) -> None:
    with runtime.db.session() as s:
        name = runtime.providers.delete(s, SYSTEM, args.provider)
    emit(args.json, {"deleted": name},
         [f"Deleted identity provider {name}; its users keep their accounts and sign in another way."])
