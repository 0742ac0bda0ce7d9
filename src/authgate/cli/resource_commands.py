"""``authgate resources ...``: resource servers (RFC 8707) at the command line, as the operator (``SYSTEM``).

Each command first makes sure authgate's own API is registered (``ResourceService.ensure_own``), as
the server does at start, so the list is the same whether or not a server has run on this database.
"""

from __future__ import annotations

from authgate.cli.output import emit
from authgate.services.accounts.people.principal import SYSTEM
from authgate.services.applications.resources import public_view
from authgate.services.runtime import Runtime


def _lines(data: dict) -> list[str]:
    ttl = f"{data['access_token_ttl']} s" if data["access_token_ttl"] else "the default"
    return [
        f"{data['name']} ({data['identifier']}){', authgate' if data['builtin'] else ''}, id {data['id']}",
        f"Scopes: {' '.join(data['scopes']) or 'none'}",
        f"Access tokens live: {ttl}; introspection {'allowed' if data['introspection'] else 'refused'}; "
        f"signed {data['signing_alg']}",
    ]


def resources_create(runtime: Runtime, args) -> None:
    with runtime.db.session() as s:
        runtime.resources.ensure_own(s)
        row = runtime.resources.create(s, args.identifier, args.name or args.identifier, args.scope or [],
                                       access_token_ttl=args.access_token_ttl,
                                       introspection=not args.no_introspection, signing_alg=args.signing_alg,
                                       actor=SYSTEM)
        data = public_view(row)
    emit(args.json, data, ["Registered the resource server.", *_lines(data)])


def resources_update(runtime: Runtime, args) -> None:
    values = {}
    if args.name is not None:
        values["name"] = args.name
    if args.access_token_ttl is not None:
        values["access_token_ttl"] = args.access_token_ttl or None
    if args.introspection is not None:
        values["introspection"] = args.introspection
    if args.signing_alg is not None:
        values["signing_alg"] = args.signing_alg
    with runtime.db.session() as s:
        runtime.resources.ensure_own(s)
        data = public_view(runtime.resources.update(s, SYSTEM, args.resource, values))
    emit(args.json, data, ["Changed the resource server.", *_lines(data)])


def resources_list(runtime: Runtime, args) -> None:
    with runtime.db.session() as s:
        runtime.resources.ensure_own(s)
        rows = [public_view(row) for row in runtime.resources.list(s, SYSTEM)]
    lines = [f"{r['id']}  {r['identifier']}  {r['name']}  [{' '.join(r['scopes'])}]" for r in rows]
    emit(args.json, {"resources": rows}, lines)


def resources_show(runtime: Runtime, args) -> None:
    with runtime.db.session() as s:
        runtime.resources.ensure_own(s)
        data = public_view(runtime.resources.visible(s, SYSTEM, args.resource))
    emit(args.json, data, _lines(data))


def resources_delete(runtime: Runtime, args) -> None:
    with runtime.db.session() as s:
        runtime.resources.ensure_own(s)
        identifier = runtime.resources.delete(s, SYSTEM, args.resource)
    emit(args.json, {"deleted": identifier},
         [f"Deleted resource server {identifier}; tokens already issued for it work until they expire."])
