"""Argument parsing and the error boundary: every failure is one line on stderr and a non-zero exit."""

from __future__ import annotations

import argparse
import os
import sys
import tempfile

from sqlalchemy.exc import SQLAlchemyError

from authgate.cli import commands
from authgate.oauth.grants.registry import GRANTS
from authgate.services.keys import ALGORITHMS, DEFAULT_ALG
from authgate.services.errors import ServiceError
from authgate.storage import schema
from authgate.settings import DEFAULT_HOST, DEFAULT_PORT, SettingsError, insecure_reasons, load


MAX_DAYS = 36_500


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{value} must be positive")
    return value


def _days(text: str) -> int:
    value = _positive(text)
    if value > MAX_DAYS:
        raise argparse.ArgumentTypeError(f"{value} days is more than {MAX_DAYS} (100 years)")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="authgate", description="OAuth 2.0 / OpenID Connect authorization server")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = sub.add_parser("serve", help="run the server (applies pending migrations first)")
    serve.add_argument("--host", default=DEFAULT_HOST)
    serve.add_argument("--port", type=_positive, default=DEFAULT_PORT)
    serve.add_argument("--workers", type=_positive, default=1)
    serve.add_argument("--no-migrate", action="store_true", help="do not apply pending migrations")

    status = sub.add_parser("status", help="where authgate keeps its data: issuer, database, migrations, signing keys")
    status.add_argument("--json", action="store_true", help="print one JSON object")

    db = sub.add_parser("db", help="database schema").add_subparsers(dest="action", required=True, metavar="ACTION")
    db.add_parser("upgrade", help="apply pending migrations").set_defaults(run=commands.db_upgrade)

    users = sub.add_parser("users", help="manage users").add_subparsers(dest="action", required=True, metavar="ACTION")
    create_user = users.add_parser("create", help="create a user")
    create_user.add_argument("username")
    create_user.add_argument("--email", required=True)
    secret = create_user.add_mutually_exclusive_group(required=True)
    secret.add_argument("--password-stdin", action="store_true", help="read the password from the first line of stdin")
    secret.add_argument("--password")
    create_user.add_argument("--admin", action="store_true")
    create_user.add_argument("--json", action="store_true")
    create_user.set_defaults(run=commands.users_create)
    import_users = users.add_parser("import", help="import users (CSV or JSON; bcrypt hashes kept)")
    import_users.add_argument("file", metavar="FILE.csv|FILE.json")
    import_users.add_argument("--json", action="store_true")
    import_users.set_defaults(run=commands.users_import)
    unlock_user = users.add_parser("unlock", help="end a lockout after failed sign-ins")
    unlock_user.add_argument("username", help="username or email")
    unlock_user.set_defaults(run=commands.users_unlock)

    clients = sub.add_parser("clients", help="manage client applications").add_subparsers(
        dest="action", required=True, metavar="ACTION"
    )
    create_client = clients.add_parser("create", help="register a client application")
    create_client.add_argument("--name", required=True)
    create_client.add_argument("--redirect-uri", action="append")
    create_client.add_argument("--grant", action="append", choices=GRANTS.names(),
                               help=f"a grant it may use (repeatable); {', '.join(GRANTS.refreshable())} "
                                    "bring refresh_token")
    create_client.add_argument("--scope", action="append")
    create_client.add_argument("--public", action="store_true", help="no secret (native and browser apps; PKCE required)")
    create_client.add_argument("--owner", metavar="USERNAME", help="the user who owns it (it may revoke their personal access tokens)")
    create_client.add_argument("--json", action="store_true")
    create_client.set_defaults(run=commands.clients_create)
    list_clients = clients.add_parser("list", help="list client applications")
    list_clients.add_argument("--json", action="store_true")
    list_clients.set_defaults(run=commands.clients_list)
    delete_client = clients.add_parser("delete", help="delete a client and revoke its tokens")
    delete_client.add_argument("client_id")
    delete_client.set_defaults(run=commands.clients_delete)

    tokens = sub.add_parser("tokens", help="manage personal access tokens").add_subparsers(
        dest="action", required=True, metavar="ACTION"
    )
    create_token = tokens.add_parser("create", help="create a personal access token")
    create_token.add_argument("--user", required=True)
    create_token.add_argument("--name", required=True)
    create_token.add_argument("--scope", action="append")
    create_token.add_argument("--expires-in", type=_days, metavar="DAYS")
    create_token.add_argument("--json", action="store_true")
    create_token.set_defaults(run=commands.tokens_create)
    list_tokens = tokens.add_parser("list", help="list a user's personal access tokens")
    list_tokens.add_argument("--user", required=True)
    list_tokens.add_argument("--json", action="store_true")
    list_tokens.set_defaults(run=commands.tokens_list)
    revoke_token = tokens.add_parser("revoke", help="revoke a personal access token")
    revoke_token.add_argument("token_id", type=_positive)
    revoke_token.set_defaults(run=commands.tokens_revoke)
    purge_tokens = tokens.add_parser(
        "purge", help="delete expired codes, tokens, device codes, ended sessions (in batches; safe while serving)")
    purge_tokens.add_argument("--batch-size", type=_positive, default=1000, help="rows per transaction (default 1000)")
    purge_tokens.add_argument("--json", action="store_true")
    purge_tokens.set_defaults(run=commands.tokens_purge)

    keys = sub.add_parser("keys", help="manage signing keys").add_subparsers(dest="action", required=True, metavar="ACTION")
    rotate_key = keys.add_parser(
        "rotate", help="make a new signing key, published at once and signing after AUTHGATE_KEY_PUBLISH_AHEAD "
                       "seconds; the old one stays published until its tokens expire")
    rotate_key.add_argument("--alg", choices=ALGORITHMS, default=DEFAULT_ALG,
                            help="ID tokens stay RS256 when another algorithm signs access tokens")
    rotate_key.add_argument("--now", action="store_true",
                            help="sign with the new key at once (an emergency: caches of the JWKS may refuse its tokens for a while)")
    rotate_key.add_argument("--json", action="store_true")
    rotate_key.set_defaults(run=commands.keys_rotate)
    list_keys = keys.add_parser("list", help="list signing keys: next, active, published (retired) or expired")
    list_keys.add_argument("--json", action="store_true")
    list_keys.set_defaults(run=commands.keys_list)
    remove_key = keys.add_parser(
        "remove", help="delete a retired key at once (a compromised key): every token it signed is refused")
    remove_key.add_argument("kid")
    remove_key.add_argument("--json", action="store_true")
    remove_key.set_defaults(run=commands.keys_remove)
    encrypt_keys = keys.add_parser(
        "encrypt", help="encrypt the stored private keys and server secrets under AUTHGATE_SECRET_KEY "
                        "(rows under AUTHGATE_OLD_SECRET_KEY are re-encrypted)")
    encrypt_keys.add_argument("--json", action="store_true")
    encrypt_keys.set_defaults(run=commands.keys_encrypt)
    return parser


def serve(args) -> None:
    import uvicorn

    from authgate.services.runtime import Runtime

    os.environ["AUTHGATE_HOST"], os.environ["AUTHGATE_PORT"] = args.host, str(args.port)
    settings = load(args.host, args.port)
    reasons = insecure_reasons(settings, args.host)
    if reasons and not settings.development:
        raise SettingsError(
            "refusing to start with an insecure configuration:\n  - " + "\n  - ".join(reasons)
            + "\n(set AUTHGATE_DEV=1 to run a development server anyway)"
        )
    print(f"authgate home {settings.home}; database {schema.display_url(settings.database_url)}", flush=True)
    runtime = Runtime.open(settings, upgrade=not args.no_migrate)
    password = runtime.first_start()
    with runtime.db.session(write=False) as s:
        in_clear = runtime.keys.in_clear(s)
    runtime.db.dispose()
    if in_clear:
        print(f"authgate: {in_clear} stored key(s) are not encrypted yet: run `authgate keys encrypt`", flush=True)
    if password:
        print(f"Created administrator 'admin' with password: {password}", flush=True)
        print("Sign in and change it; it is not shown again.", flush=True)
    if args.workers > 1 and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="authgate-metrics-")
    print(f"authgate serving on http://{args.host}:{args.port} (issuer {settings.issuer})", flush=True)
    uvicorn.run(
        "authgate.web.app:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        access_log=False,
        log_level="warning",
        proxy_headers=False,
    )


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "serve":
            serve(args)
            return 0
        settings = load()
        if args.command == "status":
            commands.status(settings, args)
            return 0
        from authgate.services.runtime import Runtime

        upgrade = args.command == "db"
        if not upgrade:
            schema.require_current(settings.database_url, settings.home)
        args.run(Runtime.open(settings, upgrade=upgrade), args)
        return 0
    except (ServiceError, SettingsError, schema.DatabaseNotReady) as error:
        print(f"authgate: error: {error}", file=sys.stderr)
    except SQLAlchemyError as error:
        print(f"authgate: database error: {type(error).__name__}: {str(error).splitlines()[0]}", file=sys.stderr)
    except OSError as error:
        print(f"authgate: error: {error}", file=sys.stderr)
    except KeyboardInterrupt:
        return 130
    return 1
