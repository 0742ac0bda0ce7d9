"""Argument parsing and the error boundary: every failure is one line on stderr and a non-zero exit.

Start-up stays quick because nothing heavy is imported before it is needed: the parser of a command
group is filled in only for the group being run (``clients`` reads the grant registry, ``keys`` the
key algorithms), the command bodies (``cli/commands.py``, which build the services) load when a command
runs, Alembic only for ``serve`` and ``db upgrade``, uvicorn and the web app only for ``serve``.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import os
import sys
import tempfile

from authgate.settings import DEFAULT_HOST, DEFAULT_PORT, SettingsError, insecure_reasons, load

MAX_DAYS = 36_500

IMPORT_FORMAT = """\
file format:
  CSV with a header line, or a JSON array of objects, with these fields:
    username, email          required
    password_hash            a bcrypt ($2y$, $2b$) or argon2id hash, kept as it is (bcrypt becomes
                             argon2id at the user's next sign-in)
    password                 or a password in clear (checked against the password policy);
                             give exactly one of password_hash and password
    firstname, lastname      optional
    is_administrator         optional: 1, true, yes or y
  One bad row and nothing is imported; the error names the row.

  CSV:   username,email,password_hash
         ann,ann@example.org,$2y$10$...
  JSON:  [{"username": "ann", "email": "ann@example.org", "password_hash": "$2y$10$..."}]
"""


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


class _Grants:
    """The grant names ``--grant`` accepts, read from the grant registry only when a grant is given or the
    help is shown (``oauth/grants/specs.py`` fills it without importing the grants and Authlib)."""

    @staticmethod
    def registry():
        from authgate.services.applications.grant_types import GRANTS

        importlib.import_module("authgate.oauth.grants.specs")  # registers the names

        return GRANTS

    def __iter__(self):
        return iter(self.registry().names())

    def __contains__(self, name: str) -> bool:
        return name in self.registry().choices()


GRANT_CHOICES = _Grants()


def _grant(text: str) -> str:
    """A grant as authgate, ProcessMaker or the standards name it (``grant_types_supported``'s URNs)."""
    return GRANT_CHOICES.registry().name_of(text.strip())


def _one_of(choices):
    """A value from ``choices`` given in any case, as ``choices`` spell it."""
    def pick(text: str) -> str:
        for choice in choices:
            if choice.lower() == text.strip().lower():
                return choice
        return text

    return pick


def _command(name: str, module: str = "commands"):
    """``args.run(runtime, args)``: the function ``name`` of ``cli/<module>.py``, imported when it runs."""
    def run(runtime, args) -> None:
        import importlib

        getattr(importlib.import_module(f"authgate.cli.{module}"), name)(runtime, args)

    run.__name__ = name
    return run


class Parser(argparse.ArgumentParser):
    """Usage mistakes are one line too, naming the flag or value and where the help is."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see `{self.prog} --help`)\n")


def _json(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of lines")


def _links(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--print", action="store_true", help="print the link instead of mailing it")
    _json(parser)


def _serve(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default=DEFAULT_HOST, help=f"address to listen on (default {DEFAULT_HOST})")
    parser.add_argument("--port", type=_positive, default=DEFAULT_PORT, help=f"port to listen on (default {DEFAULT_PORT})")
    parser.add_argument("--workers", type=_positive, default=1, help="server processes (default 1)")
    parser.add_argument("--no-migrate", action="store_true", help="do not apply pending migrations")


def _status(parser: argparse.ArgumentParser) -> None:
    _json(parser)


def _db(parser: argparse.ArgumentParser) -> None:
    db = parser.add_subparsers(dest="action", required=True, metavar="ACTION", parser_class=Parser)
    upgrade = db.add_parser("upgrade", help="apply pending migrations (makes the database if there is none)")
    _json(upgrade)
    upgrade.set_defaults(run=_command("db_upgrade"))


def _users(parser: argparse.ArgumentParser) -> None:
    users = parser.add_subparsers(dest="action", required=True, metavar="ACTION", parser_class=Parser)
    create_user = users.add_parser("create", help="create a user")
    create_user.add_argument("username", help="the new user's name")
    create_user.add_argument("--email", required=True, help="the user's email address")
    secret = create_user.add_mutually_exclusive_group(required=True)
    secret.add_argument("--password-stdin", action="store_true", help="read the password from the first line of stdin")
    secret.add_argument("--password", help="the password (visible to other local users: prefer --password-stdin)")
    create_user.add_argument("--admin", action="store_true", help="make the user an administrator")
    _json(create_user)
    create_user.set_defaults(run=_command("users_create"))
    list_users = users.add_parser("list", help="list users")
    list_users.add_argument("--filter", default="", help="only users whose username, email or name contains this")
    list_users.add_argument("--deleted", action="store_true", help="list deleted users instead")
    list_users.add_argument("--page", type=_positive, default=1, help="page number (default 1)")
    list_users.add_argument("--per-page", type=_positive, default=100, help="users per page (default and most 100)")
    _json(list_users)
    list_users.set_defaults(run=_command("users_list"))
    show_user = users.add_parser("show", help="a user, their groups and their permissions (direct and through groups)")
    show_user.add_argument("username", help="the user's name")
    _json(show_user)
    show_user.set_defaults(run=_command("users_show"))
    set_password = users.add_parser(
        "set-password", help="set a user's password, end their sign-in lockout and sessions (also to recover a "
                             "lost administrator password: authgate users set-password admin --generate)")
    set_password.add_argument("username", help="the user's name")
    new_secret = set_password.add_mutually_exclusive_group(required=True)
    new_secret.add_argument("--password-stdin", action="store_true", help="read the password from the first line of stdin")
    new_secret.add_argument("--password", help="the password (visible to other local users: prefer --password-stdin)")
    new_secret.add_argument("--generate", action="store_true", help="make a random password and print it once")
    set_password.add_argument("--revoke-tokens", action="store_true", help="revoke their personal access tokens too")
    _json(set_password)
    set_password.set_defaults(run=_command("users_set_password"))
    delete_user = users.add_parser("delete", help="delete a user and revoke every token and session they have")
    delete_user.add_argument("username", help="the user's name")
    _json(delete_user)
    delete_user.set_defaults(run=_command("users_delete"))
    import_users = users.add_parser(
        "import", help="import users (CSV or JSON; bcrypt hashes kept)", epilog=IMPORT_FORMAT,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    import_users.add_argument("file", metavar="FILE.csv|FILE.json", help="the file to import (the format is below)")
    _json(import_users)
    import_users.set_defaults(run=_command("users_import"))
    invite = users.add_parser(
        "invite", help="invite a user to choose their password: with --email a new user without one, else a new "
                       "invitation for one who has not accepted theirs; mailed, or printed without SMTP or with --print")
    invite.add_argument("username", help="the user's name")
    invite.add_argument("--email", help="make this new user with this address")
    invite.add_argument("--firstname", default="", help="the new user's first name")
    invite.add_argument("--lastname", default="", help="the new user's last name")
    invite.add_argument("--admin", action="store_true", help="make the new user an administrator")
    _links(invite)
    invite.set_defaults(run=_command("users_invite"))
    reset_link = users.add_parser("reset-link", help="a link for the user to choose a new password (mailed, or "
                                                     "printed without SMTP or with --print)")
    reset_link.add_argument("username", help="the user's name")
    _links(reset_link)
    reset_link.set_defaults(run=_command("users_reset_link"))
    verify_link = users.add_parser("verify-link", help="a link for the user to verify their email address (mailed, "
                                                       "or printed without SMTP or with --print)")
    verify_link.add_argument("username", help="the user's name")
    _links(verify_link)
    verify_link.set_defaults(run=_command("users_verify_link"))
    unlock_user = users.add_parser("unlock", help="end a lockout after failed sign-ins")
    unlock_user.add_argument("username", help="username or email")
    _json(unlock_user)
    unlock_user.set_defaults(run=_command("users_unlock"))
    user_sessions = users.add_parser("sessions", help="a user's live browser sessions")
    user_sessions.add_argument("username", help="whose sessions")
    _json(user_sessions)
    user_sessions.set_defaults(run=_command("users_sessions"))
    end_sessions = users.add_parser("end-sessions", help="sign a user out of every browser (at their next request)")
    end_sessions.add_argument("username", help="whom to sign out")
    _json(end_sessions)
    end_sessions.set_defaults(run=_command("users_end_sessions"))
    reset_factors = users.add_parser(
        "reset-factors", help="remove a user's second factors (authenticator app, recovery codes, passkeys)")
    reset_factors.add_argument("username", help="the user's name")
    _json(reset_factors)
    reset_factors.set_defaults(run=_command("users_reset_factors"))


def _logout_options(parser: argparse.ArgumentParser, replacing: bool = False) -> None:
    """The client's sign-out URIs (OpenID RP-Initiated and Back-Channel Logout)."""
    parser.add_argument("--post-logout-redirect-uri", action="append", metavar="URI",
                        help="where sign-out may send the browser back to (repeatable" +
                             ("; replaces the list; an empty value clears it)" if replacing else ")"))
    parser.add_argument("--backchannel-logout-uri", metavar="URI",
                        help="where logout tokens are posted: https, or http on a loopback host" +
                             (" (an empty value removes it)" if replacing else ""))
    parser.add_argument("--backchannel-logout-session-required", action=argparse.BooleanOptionalAction,
                        default=None, help="it needs the session id (sid) in logout tokens")


def _key_arguments(command: argparse.ArgumentParser) -> None:
    command.add_argument("--auth-method", choices=("client_secret_basic", "client_secret_post", "private_key_jwt"),
                         help="how it authenticates at the token endpoint; private_key_jwt (RFC 7523) needs "
                              "--jwks-file or --jwks-uri and gives it no secret")
    command.add_argument("--jwks-file", metavar="FILE", help="its public keys, a JWK Set in a JSON file")
    command.add_argument("--jwks-uri", metavar="URL", help="where its public keys are published (https)")
    command.add_argument("--profile", choices=("fapi2", "none"),
                         help="the security profile it is held to: fapi2 (FAPI 2.0: pushed requests, PKCE, "
                              "private_key_jwt, DPoP, PS256/ES256/EdDSA, 60 s codes) or none")


def _clients(parser: argparse.ArgumentParser) -> None:
    clients = parser.add_subparsers(dest="action", required=True, metavar="ACTION", parser_class=Parser)
    create_client = clients.add_parser("create", help="register a client application")
    create_client.add_argument("--name", required=True, help="the name users see on the consent page")
    create_client.add_argument("--redirect-uri", action="append", help="where codes may be sent (repeatable)")
    create_client.add_argument("--grant", action="append", type=_grant, choices=GRANT_CHOICES, metavar="GRANT",
                               help="a grant it may use (repeatable): %(choices)s, or its grant_type URN; "
                                    "the grants that issue refresh tokens bring refresh_token")
    create_client.add_argument("--scope", action="append", help="a scope it may ask for (repeatable)")
    create_client.add_argument("--public", action="store_true", help="no secret (native and browser apps; PKCE required)")
    create_client.add_argument("--owner", metavar="USERNAME", help="the user who owns it (it may revoke their personal access tokens)")
    _logout_options(create_client)
    _key_arguments(create_client)
    _json(create_client)
    create_client.set_defaults(run=_command("clients_create"))
    list_clients = clients.add_parser("list", help="list client applications")
    _json(list_clients)
    list_clients.set_defaults(run=_command("clients_list"))
    show_client = clients.add_parser("show", help="a client application (never its secret)")
    show_client.add_argument("client_id", help="the client's id (see `authgate clients list`)")
    _json(show_client)
    show_client.set_defaults(run=_command("clients_show"))
    update_client = clients.add_parser("update", help="change a client's name, redirect URIs, grants, scopes or requirements")
    update_client.add_argument("client_id", help="the client's id (see `authgate clients list`)")
    update_client.add_argument("--name", help="the new name")
    update_client.add_argument("--redirect-uri", action="append",
                               help="where codes may be sent (repeatable; replaces the list)")
    update_client.add_argument("--grant", action="append", type=_grant, choices=GRANT_CHOICES, metavar="GRANT",
                               help="a grant it may use (repeatable; replaces the list): %(choices)s")
    update_client.add_argument("--scope", action="append", help="a scope it may ask for (repeatable; replaces the list)")
    _logout_options(update_client, replacing=True)
    _key_arguments(update_client)
    update_client.add_argument("--require-par", action=argparse.BooleanOptionalAction, default=None,
                               help="its authorization requests must be pushed first (RFC 9126)")
    update_client.add_argument("--require-dpop", action=argparse.BooleanOptionalAction, default=None,
                               help="its token requests must carry a DPoP proof (RFC 9449)")
    update_client.add_argument("--require-signed-request-object", action=argparse.BooleanOptionalAction, default=None,
                               help="its authorization requests must be request objects signed by its keys (RFC 9101)")
    _json(update_client)
    update_client.set_defaults(run=_command("clients_update"))
    rotate_secret = clients.add_parser("rotate-secret", help="a new secret, shown once; the old one stops working at once")
    rotate_secret.add_argument("client_id", help="the client's id (see `authgate clients list`)")
    _json(rotate_secret)
    rotate_secret.set_defaults(run=_command("clients_rotate_secret"))
    delete_client = clients.add_parser("delete", help="delete a client and revoke its tokens")
    delete_client.add_argument("client_id", help="the client's id (see `authgate clients list`)")
    _json(delete_client)
    delete_client.set_defaults(run=_command("clients_delete"))
    disable_client = clients.add_parser("disable", help="stop a client everywhere and revoke its tokens")
    disable_client.add_argument("client_id", help="the client's id, a metadata document's URL, or its doc-N key")
    _json(disable_client)
    disable_client.set_defaults(run=_command("clients_disable"))
    enable_client = clients.add_parser("enable", help="let a disabled client be used again (its old tokens stay revoked)")
    enable_client.add_argument("client_id", help="the client's id, a metadata document's URL, or its doc-N key")
    _json(enable_client)
    enable_client.set_defaults(run=_command("clients_enable"))


def _resource_command(name: str):
    """As ``_command``, from ``cli/resource_commands.py``."""
    def run(runtime, args) -> None:
        from authgate.cli import resource_commands

        getattr(resource_commands, name)(runtime, args)

    run.__name__ = name
    return run


def _resources(parser: argparse.ArgumentParser) -> None:
    from authgate.services.applications.resources import DEFAULT_SIGNING_ALG, SIGNING_ALGS

    resources = parser.add_subparsers(dest="action", required=True, metavar="ACTION", parser_class=Parser)
    create = resources.add_parser("create", help="register a resource server (an API tokens may be asked for, RFC 8707)")
    create.add_argument("--identifier", required=True, metavar="URI",
                        help="its absolute URI, without a fragment: the `resource` clients send and the tokens' aud")
    create.add_argument("--name", help="a name people read (default: the identifier)")
    create.add_argument("--scope", action="append", metavar="S", help="a scope it defines (repeatable)")
    create.add_argument("--access-token-ttl", type=_positive, metavar="SECONDS",
                        help="how long its access tokens live (default AUTHGATE_ACCESS_TOKEN_TTL)")
    create.add_argument("--no-introspection", action="store_true", help="introspection does not describe its tokens")
    create.add_argument("--signing-alg", type=_one_of(SIGNING_ALGS), choices=SIGNING_ALGS, default=DEFAULT_SIGNING_ALG,
                        help="what its access tokens are signed with: %(choices)s (default %(default)s, "
                             "which RFC 9068 requires every verifier to support)")
    _json(create)
    create.set_defaults(run=_resource_command("resources_create"))
    update = resources.add_parser("update", help="change a resource server's name, token lifetime, introspection "
                                                 "or signing algorithm")
    update.add_argument("resource", metavar="ID|URI", help="its id or identifier (see `authgate resources list`)")
    update.add_argument("--name", help="a name people read")
    update.add_argument("--access-token-ttl", type=int, metavar="SECONDS",
                        help="how long its access tokens live (0: AUTHGATE_ACCESS_TOKEN_TTL)")
    update.add_argument("--introspection", action=argparse.BooleanOptionalAction, default=None,
                        help="whether introspection describes its tokens")
    update.add_argument("--signing-alg", type=_one_of(SIGNING_ALGS), choices=SIGNING_ALGS,
                        help="what its access tokens are signed with: %(choices)s")
    _json(update)
    update.set_defaults(run=_resource_command("resources_update"))
    list_resources = resources.add_parser("list", help="list resource servers, authgate's own API among them")
    _json(list_resources)
    list_resources.set_defaults(run=_resource_command("resources_list"))
    for action, summary in (("show", "a resource server"),
                            ("delete", "delete a resource server (not authgate's own API)")):
        command = resources.add_parser(action, help=summary)
        command.add_argument("resource", metavar="ID|URI", help="its id or identifier (see `authgate resources list`)")
        _json(command)
        command.set_defaults(run=_resource_command("resources_" + action))


def _provider_command(name: str):
    """As ``_command``, from ``cli/provider_commands.py``."""
    def run(runtime, args) -> None:
        from authgate.cli import provider_commands

        getattr(provider_commands, name)(runtime, args)

    run.__name__ = name
    return run


def _provider_settings(command: argparse.ArgumentParser, adding: bool) -> None:
    command.add_argument("--issuer", metavar="URL",
                         help="the provider's issuer (its discovery document is ISSUER/.well-known/openid-configuration;"
                              " for oauth2, optional: the iss its answers must carry, if any)")
    command.add_argument("--client-id", metavar="ID", help="authgate's client id at the provider")
    command.add_argument("--authorization-url", metavar="URL", help="oauth2: where the browser is sent to sign in")
    command.add_argument("--token-url", metavar="URL", help="oauth2: where authgate redeems the code")
    command.add_argument("--userinfo-url", metavar="URL", help="oauth2: who signed in, read with the access token")
    command.add_argument("--claim", action="append", metavar="KEY=CLAIM",
                         help="fill KEY (subject, username, email, email_verified, given_name, family_name, name, "
                              "groups) from the upstream's CLAIM, e.g. subject=id username=login (repeatable; on "
                              "update, replaces the mapping)")
    command.add_argument("--groups-claim", metavar="CLAIM", help="the upstream claim listing a person's groups")
    command.add_argument("--map-group", action="append", metavar="UPSTREAM=GROUP",
                         help="members of the upstream group UPSTREAM (for ldap: a directory group's cn) join the "
                              "authgate GROUP at each sign-in, and leave it once no longer listed (repeatable; on update, replaces the mappings)")
    command.add_argument("--no-check", action="store_true",
                         help="save without reading the provider's discovery document (offline set-up)")
    command.add_argument("--client-secret-stdin", action="store_true",
                         help="read authgate's client secret at the provider from the first line of stdin")
    command.add_argument("--scope", action="append", metavar="S",
                         help="a scope to ask for (repeatable; default openid email profile; openid always)")
    directory = command.add_argument_group("LDAP directory (--kind ldap)")
    directory.add_argument("--ldap-url", metavar="URL", help="ldap://HOST[:PORT] or ldaps://HOST[:PORT]")
    directory.add_argument("--bind-dn", metavar="DN", help="the service account that searches users and groups")
    directory.add_argument("--bind-password-stdin", action="store_true",
                           help="read the service account's password from the first line of stdin")
    directory.add_argument("--user-base", metavar="DN", help="where users are searched")
    directory.add_argument("--user-filter", metavar="FILTER",
                           help="the user search, {username} the typed name, escaped (default (uid={username}))")
    directory.add_argument("--group-base", metavar="DN", help="where groups are searched (needed to map groups)")
    directory.add_argument("--group-filter", metavar="FILTER",
                           help="the user's groups, {dn} the user's DN, escaped (default (member={dn}))")
    switch = argparse.BooleanOptionalAction
    if adding:
        command.add_argument("--jit", action="store_true", help="create an account at a first sign-in matching none")
        command.add_argument("--link-verified-email", action="store_true",
                             help="link a first sign-in to the account with the same verified email")
        command.add_argument("--allow-private-network", action="store_true",
                             help="its URLs may resolve to private or loopback addresses (an IdP inside the network)")
        command.add_argument("--disabled", action="store_true", help="add it without a button on the sign-in page")
    else:
        command.add_argument("--jit", dest="allow_jit", action=switch, default=None,
                             help="create accounts just in time (or --no-jit)")
        command.add_argument("--link-verified-email", dest="link_verified_email", action=switch, default=None,
                             help="link by verified email (or --no-link-verified-email)")
        command.add_argument("--allow-private-network", dest="allow_private_network", action=switch, default=None,
                             help="allow private or loopback addresses (or --no-allow-private-network)")
        command.add_argument("--enabled", dest="enabled", action=switch, default=None,
                             help="offer it on the sign-in page (or --no-enabled)")
        command.add_argument("--no-group-mappings", action="store_true", help="remove every group mapping")
    _json(command)


def _providers(parser: argparse.ArgumentParser) -> None:
    providers = parser.add_subparsers(dest="action", required=True, metavar="ACTION", parser_class=Parser)
    add = providers.add_parser("add", help="add an upstream identity provider people may sign in with")
    add.add_argument("--kind", default="oidc", choices=("oidc", "oauth2", "ldap"),
                     help="oidc: OpenID Connect, by discovery; oauth2: plain OAuth 2.0 with a userinfo URL "
                          "(GitHub-style); ldap: an LDAP directory checking passwords typed here")
    add.add_argument("--name", required=True, help="shown on the button; part of the callback URL")
    _provider_settings(add, adding=True)
    add.set_defaults(run=_provider_command("providers_add"))
    list_providers = providers.add_parser("list", help="list identity providers")
    _json(list_providers)
    list_providers.set_defaults(run=_provider_command("providers_list"))
    update = providers.add_parser("update", help="change an identity provider (its name stays)")
    update.add_argument("provider", metavar="ID|NAME", help="its id or name (see `authgate providers list`)")
    _provider_settings(update, adding=False)
    update.set_defaults(run=_provider_command("providers_update"))
    for action, summary in (("show", "an identity provider and its callback URL"),
                            ("delete", "delete an identity provider and the links to it")):
        command = providers.add_parser(action, help=summary)
        command.add_argument("provider", metavar="ID|NAME", help="its id or name (see `authgate providers list`)")
        _json(command)
        command.set_defaults(run=_provider_command("providers_" + action))


def _tokens(parser: argparse.ArgumentParser) -> None:
    tokens = parser.add_subparsers(dest="action", required=True, metavar="ACTION", parser_class=Parser)
    create_token = tokens.add_parser("create", help="create a personal access token")
    create_token.add_argument("--user", required=True, help="the username it acts for")
    create_token.add_argument("--name", required=True, help="a name to recognise it by")
    create_token.add_argument("--scope", action="append", help="a scope it carries (repeatable; default *)")
    create_token.add_argument("--expires-in", type=_days, metavar="DAYS", help="days until it expires")
    _json(create_token)
    create_token.set_defaults(run=_command("tokens_create"))
    list_tokens = tokens.add_parser("list", help="list a user's personal access tokens")
    list_tokens.add_argument("--user", required=True, help="the username whose tokens to list")
    _json(list_tokens)
    list_tokens.set_defaults(run=_command("tokens_list"))
    revoke_token = tokens.add_parser(
        "revoke", help="revoke a personal access token by its id, or any token (access, refresh, personal) by its value")
    revoke_token.add_argument("token", metavar="ID|TOKEN",
                              help="a personal access token's id (see `authgate tokens list`) or a token itself; "
                                   "a refresh token takes its whole grant with it")
    _json(revoke_token)
    revoke_token.set_defaults(run=_command("tokens_revoke"))
    purge_tokens = tokens.add_parser(
        "purge", help="delete expired codes, tokens, device codes, ended sessions, shown-once secrets and "
                      "pending sign-ins (in batches; safe while serving)")
    purge_tokens.add_argument("--batch-size", type=_positive, default=1000, help="rows per transaction (default 1000)")
    _json(purge_tokens)
    purge_tokens.set_defaults(run=_command("tokens_purge"))


def _groups(parser: argparse.ArgumentParser) -> None:
    groups = parser.add_subparsers(dest="action", required=True, metavar="ACTION", parser_class=Parser)
    list_groups = groups.add_parser("list", help="list groups")
    list_groups.add_argument("--filter", default="", help="only groups whose name or description contains this")
    _json(list_groups)
    list_groups.set_defaults(run=_command("groups_list"))
    create_group = groups.add_parser("create", help="create a group")
    create_group.add_argument("name", help="the group's name")
    create_group.add_argument("--description", default="", help="what the group is for")
    _json(create_group)
    create_group.set_defaults(run=_command("groups_create"))
    for action, summary in (("add-member", "add a user to a group"), ("remove-member", "take a user out of a group")):
        member = groups.add_parser(action, help=summary)
        member.add_argument("group", help="the group's name or id")
        member.add_argument("username", help="the user's name")
        _json(member)
        member.set_defaults(run=_command("groups_" + action.replace("-", "_")))


def _permissions(parser: argparse.ArgumentParser) -> None:
    permissions = parser.add_subparsers(dest="action", required=True, metavar="ACTION", parser_class=Parser)
    list_permissions = permissions.add_parser("list", help="the permissions there are, or those a user or group holds")
    holder = list_permissions.add_mutually_exclusive_group()
    holder.add_argument("--user", metavar="USERNAME", help="only what this user holds (directly and through groups)")
    holder.add_argument("--group", metavar="GROUP", help="only what this group gives (its name or id)")
    _json(list_permissions)
    list_permissions.set_defaults(run=_command("permissions_list"))
    for action, summary in (("grant", "give a user or a group permissions"),
                            ("revoke", "take permissions from a user or a group (what they hold directly)")):
        change = permissions.add_parser(action, help=summary)
        holder = change.add_mutually_exclusive_group(required=True)
        holder.add_argument("--user", metavar="USERNAME", help="the user")
        holder.add_argument("--group", metavar="GROUP", help="the group (its name or id)")
        change.add_argument("names", nargs="+", metavar="PERMISSION",
                            help="a permission's name, such as view-users (see `authgate permissions list`)")
        _json(change)
        change.set_defaults(run=_command("permissions_" + action))


def _keys(parser: argparse.ArgumentParser) -> None:
    from authgate.services.credentials.keys import ALGORITHMS, DEFAULT_ALG

    keys = parser.add_subparsers(dest="action", required=True, metavar="ACTION", parser_class=Parser)
    rotate_key = keys.add_parser(
        "rotate", help="make a new signing key, published at once and signing after AUTHGATE_KEY_PUBLISH_AHEAD "
                       "seconds; the old one stays published until its tokens expire")
    rotate_key.add_argument("--alg", type=_one_of(ALGORITHMS), choices=ALGORITHMS, default=DEFAULT_ALG,
                            help="the algorithm, in any case: %(choices)s (default %(default)s); "
                                 "ID tokens stay RS256 when another algorithm signs access tokens")
    rotate_key.add_argument("--for-resources", action="store_true",
                            help="rotate only the keys that sign for resource servers that chose an algorithm "
                                 "(`authgate resources update URI --signing-alg ...`)")
    rotate_key.add_argument("--now", action="store_true",
                            help="sign with the new key at once (an emergency: caches of the JWKS may refuse its tokens for a while)")
    _json(rotate_key)
    rotate_key.set_defaults(run=_command("keys_rotate"))
    list_keys = keys.add_parser("list", help="list signing keys: next, active, published (retired) or expired")
    _json(list_keys)
    list_keys.set_defaults(run=_command("keys_list"))
    remove_key = keys.add_parser(
        "remove", help="delete a retired key at once (a compromised key): every token it signed is refused")
    remove_key.add_argument("kid", help="the key's id (see `authgate keys list`)")
    _json(remove_key)
    remove_key.set_defaults(run=_command("keys_remove"))
    encrypt_keys = keys.add_parser(
        "encrypt", help="encrypt the stored private keys and server secrets under AUTHGATE_SECRET_KEY "
                        "(rows under AUTHGATE_OLD_SECRET_KEY are re-encrypted)")
    _json(encrypt_keys)
    encrypt_keys.set_defaults(run=_command("keys_encrypt"))


def _policy(parser: argparse.ArgumentParser) -> None:
    policy = parser.add_subparsers(dest="action", required=True, metavar="ACTION", parser_class=Parser)
    show = policy.add_parser("show", help="show the sign-in policy: who must have a second factor")
    _json(show)
    show.set_defaults(run=_command("policy_show", "policy"))
    second = policy.add_parser(
        "second-factor", help="require a second factor of everyone, administrators, the members of groups, or nobody")
    who = second.add_mutually_exclusive_group(required=True)
    who.add_argument("--require", choices=("everyone", "administrators", "off"), type=_one_of(
        ("everyone", "administrators", "off")), help="whom to require it of (off: nobody)")
    who.add_argument("--group", action="append", metavar="GROUP",
                     help="require it of this group's members (a name or id; repeat for more groups)")
    _json(second)
    second.set_defaults(run=_command("policy_second_factor", "policy"))


def _registration(parser: argparse.ArgumentParser) -> None:
    registration = parser.add_subparsers(dest="subject", required=True, metavar="SUBJECT", parser_class=Parser)
    token = registration.add_parser("token", help="initial access tokens (AUTHGATE_REGISTRATION=token)")
    actions = token.add_subparsers(dest="action", required=True, metavar="ACTION", parser_class=Parser)
    create_token = actions.add_parser(
        "create", help="make an initial access token a client registers with (RFC 7591 §3), shown once")
    create_token.add_argument("--expires-in", type=_positive, metavar="SECONDS", help="seconds until it expires (default never)")
    create_token.add_argument("--uses", type=_positive, metavar="N", help="how many registrations it allows (default any)")
    _json(create_token)
    create_token.set_defaults(run=_command("registration_token_create", "registration"))


GROUPS = {
    "serve": ("run the server (applies pending migrations first)", _serve),
    "status": ("where authgate keeps its data: issuer, database, migrations, signing keys", _status),
    "db": ("database schema", _db),
    "users": ("manage users", _users),
    "clients": ("manage client applications", _clients),
    "resources": ("manage resource servers (the APIs tokens are for, RFC 8707)", _resources),
    "groups": ("manage groups of users", _groups),
    "permissions": ("grant and revoke permissions", _permissions),
    "tokens": ("manage personal access tokens; revoke any token", _tokens),
    "keys": ("manage signing keys", _keys),
    "policy": ("the sign-in policy: who must have a second factor", _policy),
    "registration": ("dynamic client registration: initial access tokens", _registration),
    "providers": ("upstream identity providers people may sign in with (OpenID Connect, OAuth 2.0)", _providers),
}


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The whole command line, or (``command`` given) the top level and that one group's options."""
    parser = Parser(prog="authgate", description="OAuth 2.0 / OpenID Connect authorization server")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=Parser)
    for name, (summary, fill) in GROUPS.items():
        group = sub.add_parser(name, help=summary, description=summary)
        if command is None or command == name:
            fill(group)
    return parser


def serve(args) -> None:
    import uvicorn

    from authgate.storage import schema

    os.environ["AUTHGATE_HOST"], os.environ["AUTHGATE_PORT"] = args.host, str(args.port)
    settings = load(args.host, args.port)
    reasons = insecure_reasons(settings, args.host)
    if reasons and not settings.development:
        raise SettingsError(
            "refusing to start with an insecure configuration:\n  - " + "\n  - ".join(reasons)
            + "\n(set AUTHGATE_DEV=1 to run a development server anyway)"
        )
    print(f"authgate home {settings.home}; database {schema.display_url(settings.database_url)}", flush=True)
    _in_a_child(_prepare, settings, not args.no_migrate)
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


def _prepare(settings, upgrade: bool) -> None:
    """The database migrated, the first administrator made, and what the operator must know printed."""
    from authgate.services.runtime import Runtime

    runtime = Runtime.open(settings, upgrade=upgrade)
    password = runtime.first_start()
    with runtime.db.session(write=False) as s:
        in_clear = runtime.keys.in_clear(s)
    runtime.db.dispose()
    if in_clear:
        print(f"authgate: {in_clear} stored key(s) are not encrypted yet: run `authgate keys encrypt`", flush=True)
    if password:
        print(f"Created administrator 'admin' with password: {password}", flush=True)
        print("Sign in and change it; it is not shown again.", flush=True)


def _in_a_child(work, *args) -> None:
    """``work(*args)`` in a forked child, where the platform forks: the serving process then keeps none of what
    migrating and the first start loaded (about 20 MB of a worker's resident memory), as with ``--workers 2``'s
    spawned workers. A failure is the child's to print; this process then stops (exit status 1)."""
    if not hasattr(os, "fork"):
        work(*args)
        return
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:
        status = 1
        try:
            work(*args)
            status = 0
        except KeyboardInterrupt:
            status = 130
        except Exception as error:
            message = _one_line(error)
            if message is None:
                import traceback

                traceback.print_exc()
            else:
                print(message, file=sys.stderr)
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(status)
    _, status = os.waitpid(pid, 0)
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        raise SystemExit(code if code > 0 else 1)


def _run(args) -> None:
    if args.command == "serve":
        gc.enable()
        serve(args)
        return
    settings = load()
    if args.command == "status":
        from authgate.cli import commands

        commands.status(settings, args)
        return
    from authgate.services.runtime import Runtime
    from authgate.storage import schema

    upgrade = args.command == "db"
    if not upgrade:
        schema.require_current(settings.database_url, settings.home)
    runtime = Runtime.open(settings, upgrade=upgrade, eager=False)
    gc.enable()  # the command itself may make garbage in any amount (`users import`, `tokens purge`)
    try:
        args.run(runtime, args)
    finally:
        if "mailer" in vars(runtime):  # built only by a command that sends mail: wait for its letters
            runtime.mailer.wait()


def _one_line(error: Exception) -> str | None:
    """The message for an error the CLI expects, or None for a bug (whose traceback is shown)."""
    from sqlalchemy.exc import SQLAlchemyError

    from authgate.services.errors import ServiceError
    from authgate.storage.schema import DatabaseNotReady

    if isinstance(error, (ServiceError, SettingsError, DatabaseNotReady, OSError)):
        return f"authgate: error: {error}"
    if isinstance(error, SQLAlchemyError):
        return f"authgate: database error: {type(error).__name__}: {str(error).splitlines()[0]}"
    return None


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    gc.disable()  # while the modules load, which allocate much and free little: a collection is wasted (~10%)
    try:
        _run(build_parser(argv[0] if argv else None).parse_args(argv))
        return 0
    except KeyboardInterrupt:
        return 130
    except Exception as error:
        message = _one_line(error)
        if message is None:
            raise
        print(message, file=sys.stderr)
        return 1
    finally:
        gc.enable()
