"""The ``authgate-client`` command: ``login``, ``token``, ``api``, ``whoami``, ``logout``.

Requested output (a token, a JSON response, a name) goes to stdout; instructions, progress and
errors to stderr. An error is one line on stderr and exit code 1 (2 for a wrong command line).
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
from pathlib import Path
from typing import Any

import httpx

from authgate_client.cli_profiles import Profile, Profiles
from authgate_client.client import CLIENT_CREDENTIALS, Client
from authgate_client.device_flow import GRANT as DEVICE_GRANT
from authgate_client.errors import ApiError, AuthgateClientError, ConfigurationError, LoginRequired
from authgate_client.store import default_cache_dir
from authgate_client.tokens import PERSONAL_ACCESS_TOKEN

ISSUER_ENV = "AUTHGATE_ISSUER"
CLIENT_ID_ENV = "AUTHGATE_CLIENT_ID"
CLIENT_SECRET_ENV = "AUTHGATE_CLIENT_SECRET"
WHOAMI_PATH = "/api/1.0/users/me"
GRANT_WORDS = {"authorization_code": "authorization code", "password": "password", DEVICE_GRANT: "device",
               CLIENT_CREDENTIALS: "client credentials", PERSONAL_ACCESS_TOKEN: "personal access token"}
"""How messages name the way a user signed in (a grant's URN means nothing to a person)."""
PASSWORD_EXAMPLE = "printf '%s\\n' \"$PASSWORD\" | authgate-client login --password --username NAME ..."


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="authgate-client", description="Sign in to an authgate server and call its API.")
    parser.add_argument("--cache-dir", type=Path, help="where tokens are kept (default $AUTHGATE_CLIENT_CACHE_DIR or ~/.cache/authgate-client)")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def with_issuer(p: argparse.ArgumentParser, required_hint: str) -> None:
        p.add_argument("--issuer", default=os.environ.get(ISSUER_ENV), help=f"the server's URL (or ${ISSUER_ENV}); {required_hint}")

    login = commands.add_parser("login", help="sign in and keep the tokens")
    with_issuer(login, "required")
    login.add_argument("--client-id", default=os.environ.get(CLIENT_ID_ENV), help=f"the application's client ID (or ${CLIENT_ID_ENV})")
    login.add_argument("--client-secret", default=os.environ.get(CLIENT_SECRET_ENV),
                       help=f"its secret, for a confidential client (or ${CLIENT_SECRET_ENV}, which keeps it out of ps)")
    login.add_argument("--scope", action="append", default=[], help="a scope to ask for (repeatable)")
    mode = login.add_mutually_exclusive_group()
    mode.add_argument("--browser", dest="mode", action="store_const", const="browser",
                      help="authorization code + PKCE in the browser, redirect to 127.0.0.1 (the default)")
    mode.add_argument("--device", dest="mode", action="store_const", const="device",
                      help="the device flow: approve with a code on any device (RFC 8628)")
    mode.add_argument("--password", dest="mode", action="store_const", const="password",
                      help="username and password (password read from the terminal or standard input)")
    mode.add_argument("--token", metavar="PAT", help="a personal access token ('-' reads it from standard input)")
    mode.add_argument("--client-credentials", dest="mode", action="store_const", const=CLIENT_CREDENTIALS,
                      help="the application itself, no user (needs --client-secret)")
    login.add_argument("--username", help="for --password (asked for when missing)")
    login.add_argument("--no-browser", action="store_true", help="with --browser: print the URL instead of opening it")
    login.add_argument("--port", type=int, default=0, help="with --browser: the loopback port (default: any free port)")
    login.add_argument("--keyring", action="store_true", help="keep tokens in the OS keyring (needs authgate-client[keyring])")

    token = commands.add_parser("token", help="print a fresh access token, e.g. curl -H \"Authorization: Bearer $(authgate-client token)\"")
    with_issuer(token, "default: the last login")

    api = commands.add_parser("api", help="call the API and print the JSON response")
    with_issuer(api, "default: the last login")
    api.add_argument("method", metavar="METHOD", help="GET, POST, PUT, PATCH, DELETE ...")
    api.add_argument("path", metavar="PATH", help="e.g. /api/1.0/users/me")
    api.add_argument("--data", help="a JSON request body")

    whoami = commands.add_parser("whoami", help="show who the tokens belong to")
    with_issuer(whoami, "default: the last login")
    whoami.add_argument("--json", action="store_true", help="print the whole user as JSON")

    logout = commands.add_parser("logout", help="revoke the tokens at the server and forget them")
    with_issuer(logout, "default: the last login")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    profiles = Profiles(args.cache_dir or default_cache_dir())
    try:
        return COMMANDS[args.command](args, profiles)
    except (AuthgateClientError, httpx.HTTPError) as error:
        print(f"authgate-client: error: {_one_line(error)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("authgate-client: cancelled", file=sys.stderr)
        return 130


def _one_line(error: BaseException) -> str:
    return " ".join(str(error).split()) or type(error).__name__


def _client(profile: Profile, args: argparse.Namespace) -> Client:
    return Client(profile.issuer, profile.client_id, profile.client_secret, profile.scopes,
                  store=profile.store, cache_dir=args.cache_dir)


def cmd_login(args: argparse.Namespace, profiles: Profiles) -> int:
    if not args.issuer:
        raise ConfigurationError(f"issuer missing: pass --issuer URL or set {ISSUER_ENV}")
    mode = "token" if args.token is not None else (args.mode or "browser")
    if not args.client_id and mode != "token":
        raise ConfigurationError("client_id missing: pass --client-id ID (the application's client ID) or set "
                                 f"{CLIENT_ID_ENV}")
    profile = Profile(issuer=args.issuer.rstrip("/"), client_id=args.client_id or "", client_secret=args.client_secret,
                      scopes=[s for scope in args.scope for s in scope.split()],
                      store="keyring" if args.keyring else "file")
    who = ""
    with _client(profile, args) as client:
        if mode == "token":
            token = sys.stdin.readline().strip() if args.token == "-" else args.token
            if not token:
                raise ConfigurationError("the personal access token is empty" + (
                    ": --token - reads it from the first line of standard input" if args.token == "-" else ""))
            who = _check_token(profile.issuer, token)
            client.login_token(token)
        elif mode == "password":
            username = args.username or _ask("Username: ")
            client.login_password(username, _password("first" if args.username else "second"))
        elif mode == "device":
            client.login_device()
        elif mode == CLIENT_CREDENTIALS:
            client.login_client_credentials()
        else:
            client.login_browser(open_browser=not args.no_browser, port=args.port)
        profiles.save(profile)
        print(f"Signed in to {profile.issuer}" + _how(client, who), file=sys.stderr)
    return 0


def _check_token(issuer: str, token: str) -> str:
    """One call with the token before keeping it: whose it is, or an error if the server refuses it."""
    response = httpx.get(issuer + WHOAMI_PATH, headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
                         timeout=30)
    if response.status_code == 401:
        raise LoginRequired(f"{issuer} refused the token (HTTP 401): it is mistyped, revoked or expired, or was "
                            "made by another server; nothing was kept")
    if response.status_code == 403:
        return ""
    body = _body(response)
    if response.is_error or not isinstance(body, dict):
        raise ApiError(response.status_code, body)
    return str(body.get("username") or "")


def _how(client: Client, who: str = "") -> str:
    tokens = client.tokens
    if tokens is None:
        return ""
    parts = [GRANT_WORDS.get(tokens.grant, tokens.grant.replace("_", " "))]
    if who:
        parts.append(f"as {who}")
    if tokens.scope:
        parts.append(f"scope {tokens.scope}")
    return f" ({', '.join(parts)})"


def _ask(prompt: str) -> str:
    print(prompt, end="", file=sys.stderr, flush=True)
    line = sys.stdin.readline()
    if not line.strip():
        raise ConfigurationError("no username given: pass --username NAME (without a terminal, standard input may "
                                 "give the username on its first line and the password on the second)")
    return line.strip()


def _password(line_number: str = "first") -> str:
    if sys.stdin.isatty():
        return getpass.getpass("Password: ")
    line = sys.stdin.readline()
    if not line.rstrip("\r\n"):
        raise ConfigurationError(f"no password on standard input: without a terminal, --password reads it from the "
                                 f"{line_number} line of standard input, e.g. {PASSWORD_EXAMPLE}")
    return line.rstrip("\r\n")


def cmd_token(args: argparse.Namespace, profiles: Profiles) -> int:
    with _client(profiles.get(args.issuer), args) as client:
        print(client.access_token())
    return 0


def cmd_api(args: argparse.Namespace, profiles: Profiles) -> int:
    kwargs: dict[str, Any] = {}
    if args.data is not None:
        try:
            kwargs["json"] = json.loads(args.data)
        except ValueError as error:
            raise ConfigurationError(f"--data is not JSON: {error}") from None
    with _client(profiles.get(args.issuer), args) as client:
        response = client.request(args.method.upper(), args.path, **kwargs)
    _print_body(response)
    if response.is_error:
        raise ApiError(response.status_code, _body(response))
    return 0


def cmd_whoami(args: argparse.Namespace, profiles: Profiles) -> int:
    profile = profiles.get(args.issuer)
    with _client(profile, args) as client:
        tokens = client.tokens
        if tokens is not None and tokens.grant == CLIENT_CREDENTIALS:
            who: dict[str, Any] = {"client_id": profile.client_id, "user": None}
            print(json.dumps(who) if args.json else f"client {profile.client_id} (client credentials: no user)")
            return 0
        response = client.get(WHOAMI_PATH)
    body = _body(response)
    if response.is_error or not isinstance(body, dict):
        raise ApiError(response.status_code, body)
    if args.json:
        print(json.dumps(body, indent=2))
    else:
        email = f" <{body['email']}>" if body.get("email") else ""
        print(f"{body.get('username')}{email} at {profile.issuer}")
    return 0


def cmd_logout(args: argparse.Namespace, profiles: Profiles) -> int:
    profile = profiles.get(args.issuer)
    with _client(profile, args) as client:
        revoked = client.logout()
    profiles.forget(profile.issuer)
    note = "tokens revoked and forgotten" if revoked else "tokens forgotten (nothing revoked at the server)"
    print(f"Signed out of {profile.issuer}: {note}", file=sys.stderr)
    return 0


def _body(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return response.text


def _print_body(response: httpx.Response) -> None:
    body = _body(response)
    print(json.dumps(body, indent=2) if not isinstance(body, str) else body)


COMMANDS = {"login": cmd_login, "token": cmd_token, "api": cmd_api, "whoami": cmd_whoami, "logout": cmd_logout}
