"""``authgate providers ...``: the upstream identity providers people may sign in with, as the operator
(``SYSTEM``). The client secret is read from standard input (``--client-secret-stdin``), never from an argument
other local users could see, and never printed."""

from __future__ import annotations

import sys

from authgate.cli.output import emit
from authgate.services.accounts.people.principal import SYSTEM
from authgate.services.directory.settings import LDAP, parse_mappings
from authgate.services.errors import Invalid
from authgate.services.federation.providers import public_view
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
    values = {key: getattr(args, key) for key in ("user_base", "user_filter", "group_base", "group_filter")
              if getattr(args, key) is not None}
    if args.map_group is not None:
        values["group_map"] = parse_mappings(args.map_group)
    return values


def _ldap_names(args) -> dict:
    """``--ldap-url`` and ``--bind-dn`` stored where an OpenID provider keeps its issuer and client id."""
    return {key: value for key, value in (("issuer", args.ldap_url), ("client_id", args.bind_dn)) if value}


def _lines(runtime: Runtime, data: dict) -> list[str]:
    rules = [label for flag, label in (("allow_jit", "creates accounts just in time"),
                                       ("link_verified_email", "links by verified email"),
                                       ("allow_private_network", "may be on a private network")) if data[flag]]
    if data["kind"] == LDAP:
        d = data.get("directory") or {}
        mapped = ", ".join(f"{k}={v}" for k, v in sorted((d.get("group_map") or {}).items()))
        return [
            f"{data['name']} (ldap, {'enabled' if data['enabled'] else 'disabled'}), id {data['id']}",
            f"Directory: {data['issuer']}; bind DN {data['client_id']}; password "
            f"{'set' if data['client_secret_set'] else 'not set'}",
            f"Users: {d.get('user_base')} {d.get('user_filter')}",
            f"Groups: {d.get('group_base') or '(not read)'} {d.get('group_filter')}; mapped: {mapped or 'none'}",
            f"Accounts: {', '.join(rules[:2]) or 'only those already linked'}",
        ]
    return [
        f"{data['name']} ({data['kind']}, {'enabled' if data['enabled'] else 'disabled'}), id {data['id']}",
        f"Issuer: {data['issuer']}",
        f"Client id: {data['client_id']}; secret {'set' if data['client_secret_set'] else 'not set'}",
        f"Scopes: {' '.join(data['scopes'])}",
        f"Accounts: {', '.join(rules) or 'only those already linked'}",
        f"Callback URL to register at the provider: {runtime.settings.issuer + callback_path(data['name'])}",
    ]


def _flags(args) -> dict:
    values = {}
    for flag in ("enabled", "allow_jit", "link_verified_email", "allow_private_network"):
        value = getattr(args, flag, None)
        if value is not None:
            values[flag] = value
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
                                           enabled=not args.disabled, actor=SYSTEM)
            data = public_view(row)
        return emit(args.json, data, ["Added the LDAP directory.", *_lines(runtime, data)])
    if not (args.issuer and args.client_id):
        raise Invalid("an OpenID provider needs --issuer and --client-id")
    if secret is None:
        raise Invalid("give the client secret with --client-secret-stdin")
    with runtime.db.session() as s:
        row = runtime.providers.create(s, args.name, args.issuer, args.client_id, secret, kind=args.kind,
                                       scopes=args.scope or [], allow_jit=bool(args.jit),
                                       link_verified_email=bool(args.link_verified_email),
                                       allow_private_network=bool(args.allow_private_network),
                                       enabled=not args.disabled, actor=SYSTEM)
        data = public_view(row)
    emit(args.json, data, ["Added the identity provider.", *_lines(runtime, data)])


def providers_list(runtime: Runtime, args) -> None:
    with runtime.db.session(write=False) as s:
        rows = [public_view(row) for row in runtime.providers.list(s, SYSTEM)]
    lines = [f"{r['id']}  {r['name']}  {r['issuer']}  {'enabled' if r['enabled'] else 'disabled'}" for r in rows]
    emit(args.json, {"providers": rows}, lines or ["No identity providers."])


def providers_show(runtime: Runtime, args) -> None:
    with runtime.db.session(write=False) as s:
        data = public_view(runtime.providers.visible(s, SYSTEM, args.provider))
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
    secret = _secret(args)
    if secret is not None:
        values["client_secret"] = secret
    if not values:
        raise Invalid("nothing to change: give --issuer, --client-id, --client-secret-stdin, --scope or a flag")
    with runtime.db.session() as s:
        data = public_view(runtime.providers.update(s, SYSTEM, args.provider, values))
    emit(args.json, data, ["Changed the identity provider.", *_lines(runtime, data)])


def providers_delete(runtime: Runtime, args) -> None:
    with runtime.db.session() as s:
        name = runtime.providers.delete(s, SYSTEM, args.provider)
    emit(args.json, {"deleted": name},
         [f"Deleted identity provider {name}; its users keep their accounts and sign in another way."])
