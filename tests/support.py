"""Helpers shared by the black-box tests: the server process, its database,
the CLI, an HTML form parser and a small "browser" that signs in and answers
the consent page exactly as a person would.

Nothing here knows anything about authgate's internals; everything goes
through HTTP, the command line (users, clients and tokens are seeded by the
CLI's own commands run in the test process: `seed.py`), or (for the
secrets-at-rest checks) a plain read of the database tables.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import secrets
import socket
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit, urlunsplit

import requests

from seed import InProcessCommands

HTTP_TIMEOUT = 15
SHORT_TTL = 3  # seconds: codes and tokens of the short_ttl_server fixture
CLI_TIMEOUT = 60


# --------------------------------------------------------------------------
# Databases
# --------------------------------------------------------------------------


def libpq_url(sqlalchemy_url: str) -> str:
    """postgresql+psycopg://... -> postgresql://... (what psycopg accepts)."""
    return re.sub(r"^postgresql\+\w+://", "postgresql://", sqlalchemy_url, count=1)


class SqliteDatabase:
    def __init__(self, directory: Path):
        self.path = directory / "authgate.db"
        self.url = f"sqlite:///{self.path}"  # absolute path -> four slashes

    def dump_text(self) -> str:
        parts: list[str] = []
        con = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True)
        try:
            tables = [
                r[0]
                for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            ]
            assert tables, "the database has no tables at all"
            for table in tables:
                parts.append(f"== {table}")
                for row in con.execute(f'SELECT * FROM "{table}"'):
                    parts.append(" | ".join(_cell_text(v) for v in row))
        finally:
            con.close()
        return "\n".join(parts)

    def drop(self) -> None:
        pass  # lives in a pytest tmp dir


class PostgresDatabase:
    def __init__(self, server_url: str):
        import psycopg

        self.name = "authgate_t_" + secrets.token_hex(6)
        admin = libpq_url(server_url)
        with psycopg.connect(admin, autocommit=True) as con:
            con.execute(f'CREATE DATABASE "{self.name}"')
        self._admin = admin
        self.url = urlunsplit(urlsplit(server_url)._replace(path="/" + self.name))
        self._libpq = libpq_url(self.url)

    def dump_text(self) -> str:
        import psycopg

        parts: list[str] = []
        with psycopg.connect(self._libpq, autocommit=True) as con:
            tables = con.execute(
                "SELECT table_schema, table_name FROM information_schema.tables"
                " WHERE table_type = 'BASE TABLE'"
                " AND table_schema NOT IN ('pg_catalog', 'information_schema')"
            ).fetchall()
            assert tables, "the database has no tables at all"
            for schema, table in tables:
                parts.append(f"== {schema}.{table}")
                for (row,) in con.execute(f'SELECT t::text FROM "{schema}"."{table}" AS t'):
                    parts.append(row)
        return "\n".join(parts)

    def drop(self) -> None:
        import psycopg

        with psycopg.connect(self._admin, autocommit=True) as con:
            con.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


def _cell_text(value) -> str:
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).decode("utf-8", errors="replace")
    return str(value)


def new_database(directory: Path):
    server_url = os.environ.get("AUTHGATE_TEST_DATABASE_URL")
    if server_url:
        return PostgresDatabase(server_url)
    return SqliteDatabase(directory)


# --------------------------------------------------------------------------
# The server process and its CLI
# --------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ServerProcess:
    """A real `authgate serve` subprocess on its own port and its own database.

    `env` overrides are applied on top of the defaults; a value of None removes
    the variable (e.g. AUTHGATE_ADMIN_PASSWORD=None to get a generated one).
    """

    def __init__(self, workdir: Path, env: dict | None = None):
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.issuer = self.base_url
        self.admin_password = "admin-pw-" + secrets.token_hex(8)
        self.db = new_database(self.workdir)
        base_env = {k: v for k, v in os.environ.items() if not k.startswith("AUTHGATE_")}
        base_env.update(
            {
                "AUTHGATE_DATABASE_URL": self.db.url,
                "AUTHGATE_ISSUER": self.issuer,
                "AUTHGATE_ADMIN_PASSWORD": self.admin_password,
                "AUTHGATE_ARGON2_TIME_COST": "1",
                "AUTHGATE_ARGON2_MEMORY_KIB": "8192",
                "AUTHGATE_REFRESH_GRACE_SECONDS": "0",
                # every test sends from 127.0.0.1: per-address limits are tested on servers of their own
                "AUTHGATE_LIMIT_DEVICE_CODES_PER_IP": "10000/300",
                # dozens of servers share one PostgreSQL (max_connections 100): each keeps one idle connection
                "AUTHGATE_DATABASE_POOL_SIZE": "1",
                "PYTHONUNBUFFERED": "1",
            }
        )
        for key, value in (env or {}).items():
            if value is None:
                base_env.pop(key, None)
            else:
                base_env[key] = str(value)
        self.env = base_env
        self.commands = InProcessCommands(base_env)
        self.proc: subprocess.Popen | None = None
        self.stdout_path = self.workdir / "server.stdout.log"
        self.stderr_path = self.workdir / "server.stderr.log"

    def url(self, path: str) -> str:
        return self.base_url + path

    def start(self, timeout: float = 30.0) -> "ServerProcess":
        self._stdout = open(self.stdout_path, "wb")
        self._stderr = open(self.stderr_path, "wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "authgate", "serve", "--host", "127.0.0.1", "--port", str(self.port)],
            env=self.env,
            stdout=self._stdout,
            stderr=self._stderr,
            stdin=subprocess.DEVNULL,
            cwd=self.workdir,
        )
        deadline = time.monotonic() + timeout
        last_error = None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                self._close_logs()
                raise RuntimeError(
                    f"authgate serve exited with code {self.proc.returncode} before it was ready.\n"
                    f"stderr:\n{self.stderr_text()[-5000:]}\nstdout:\n{self.stdout_text()[-2000:]}"
                )
            try:
                r = requests.get(self.url("/healthz"), timeout=1)
                if r.status_code == 200 and r.json() == {"status": "ok"}:
                    return self
                last_error = f"{r.status_code} {r.text[:200]}"
            except (requests.RequestException, ValueError) as e:
                last_error = repr(e)
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(
            f"authgate serve was not ready within {timeout}s (last /healthz: {last_error}).\n"
            f"stderr:\n{self.stderr_text()[-5000:]}"
        )

    def stop(self, drop_database: bool = True) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self._close_logs()
        self.commands.close()
        if drop_database:
            self.db.drop()

    def _close_logs(self) -> None:
        for f in (getattr(self, "_stdout", None), getattr(self, "_stderr", None)):
            if f is not None and not f.closed:
                f.close()

    def stdout_text(self) -> str:
        return self.stdout_path.read_text(errors="replace") if self.stdout_path.exists() else ""

    def stderr_text(self) -> str:
        return self.stderr_path.read_text(errors="replace") if self.stderr_path.exists() else ""

    # -- CLI -----------------------------------------------------------------

    def cli(self, *args: str, input: str | None = None) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "authgate", *args],
            env=self.env,
            input=input,
            capture_output=True,
            text=True,
            timeout=CLI_TIMEOUT,
            cwd=self.workdir,
        )

    def cli_json(self, *args: str, input: str | None = None):
        proc = self.cli(*args, "--json", input=input)
        assert proc.returncode == 0, (
            f"authgate {' '.join(args)} --json failed ({proc.returncode}):\n{proc.stderr}"
        )
        try:
            return json.loads(proc.stdout)
        except ValueError:
            raise AssertionError(f"authgate {' '.join(args)} --json printed no JSON:\n{proc.stdout!r}")

    def create_user(self, username: str | None = None, password: str | None = None,
                    admin: bool = False) -> "User":
        username = username or unique("user")
        password = password or "pw-" + secrets.token_urlsafe(12)
        email = f"{username}@example.org"
        args = ["users", "create", username, "--email", email, "--password-stdin"]
        if admin:
            args.append("--admin")
        data = self.commands.run_json(*args, input=password)
        return User(username=username, password=password, email=email, id=data["id"], data=data)

    def create_client(self, name: str | None = None, redirect_uris=(), grants=(), scopes=(),
                      public: bool = False, owner: str | None = None) -> "Client":
        name = name or unique("client")
        args = ["clients", "create", "--name", name]
        if owner:
            args += ["--owner", owner]
        for uri in redirect_uris:
            args += ["--redirect-uri", uri]
        for g in grants:
            args += ["--grant", g]
        for s in scopes:
            args += ["--scope", s]
        if public:
            args.append("--public")
        data = self.commands.run_json(*args)
        return Client(
            client_id=data["client_id"],
            client_secret=data["client_secret"],
            name=name,
            redirect_uris=list(redirect_uris),
            data=data,
        )

    def create_pat(self, username: str, name: str | None = None, scopes=(), expires_in=None) -> dict:
        args = ["tokens", "create", "--user", username, "--name", name or unique("pat")]
        for s in scopes:
            args += ["--scope", s]
        if expires_in is not None:
            args += ["--expires-in", str(expires_in)]
        return self.commands.run_json(*args)


# --------------------------------------------------------------------------
# Small value types and generic helpers
# --------------------------------------------------------------------------

_counter = 0


def unique(prefix: str) -> str:
    global _counter
    _counter += 1
    return f"{prefix}{_counter}x{secrets.token_hex(3)}"


@dataclass
class User:
    username: str
    password: str
    email: str
    id: object
    data: dict = field(default_factory=dict)

    def __iter__(self):
        """`username, password = make_user()`"""
        return iter((self.username, self.password))


@dataclass
class Client:
    client_id: str
    client_secret: str | None
    name: str
    redirect_uris: list
    data: dict = field(default_factory=dict)

    @property
    def redirect_uri(self) -> str:
        return self.redirect_uris[0]

    @property
    def basic(self):
        return (self.client_id, self.client_secret)


def pkce_pair(verifier: str | None = None) -> tuple[str, str]:
    """(code_verifier, S256 code_challenge) per RFC 7636 §4.1-4.2."""
    verifier = verifier or secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    challenge = base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")
    return verifier, challenge


def query_params(url: str) -> dict:
    """Single-valued query parameters of a URL (asserts nothing is repeated)."""
    parsed = parse_qs(urlsplit(url).query, keep_blank_values=True)
    for k, v in parsed.items():
        assert len(v) == 1, f"parameter {k} repeated in {url}"
    return {k: v[0] for k, v in parsed.items()}


def without_query(url: str) -> str:
    p = urlsplit(url)
    return urlunsplit((p.scheme, p.netloc, p.path, "", ""))


def one_line_error(proc: subprocess.CompletedProcess) -> str:
    """Assert the CLI failed the way the contract says: exit != 0, exactly one
    non-empty line on stderr, no traceback. Returns that line."""
    assert proc.returncode != 0, f"expected failure, got exit 0; stdout={proc.stdout!r}"
    assert "Traceback" not in proc.stderr and "Traceback" not in proc.stdout, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, f"expected one line on stderr, got {proc.stderr!r}"
    return lines[0]


# --------------------------------------------------------------------------
# HTML
# --------------------------------------------------------------------------


@dataclass
class Form:
    method: str
    action: str | None
    inputs: list = field(default_factory=list)  # dicts of attributes
    buttons: list = field(default_factory=list)  # dicts of attributes + "text"

    def fields(self) -> dict:
        """name -> value of every <input> with a name, except buttons/submit."""
        out = {}
        for i in self.inputs:
            if i.get("name") and i.get("type", "text").lower() not in ("submit", "button", "image"):
                out[i["name"]] = i.get("value") or ""
        return out

    def input(self, name: str) -> dict | None:
        for i in self.inputs:
            if i.get("name") == name:
                return i
        return None


class PageParser(HTMLParser):
    """Collects forms (with their inputs and buttons), the visible text and the
    text of every element that has an id."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms: list[Form] = []
        self._form: Form | None = None
        self._button: dict | None = None
        self.text_parts: list[str] = []
        self._id_stack: list[tuple[str, str, list]] = []
        self.by_id: dict[str, str] = {}
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        a = {k: (v if v is not None else "") for k, v in attrs}
        if tag in ("script", "style"):
            self._skip += 1
        if tag == "form":
            self._form = Form(method=a.get("method", "get").lower(), action=a.get("action"))
            self.forms.append(self._form)
        elif tag in ("input", "textarea", "select") and self._form is not None:
            self._form.inputs.append({"tag": tag, **a})
        elif tag == "button":
            self._button = {**a, "text": ""}
            if self._form is not None:
                self._form.buttons.append(self._button)
        if "id" in a and tag not in ("input", "br", "img", "meta", "link", "hr"):
            self._id_stack.append((tag, a["id"], []))

    def handle_endtag(self, tag):
        if tag in ("script", "style") and self._skip:
            self._skip -= 1
        if tag == "form":
            self._form = None
        elif tag == "button":
            self._button = None
        if self._id_stack and self._id_stack[-1][0] == tag:
            _, ident, parts = self._id_stack.pop()
            self.by_id[ident] = "".join(parts)

    def handle_data(self, data):
        if self._skip:
            return
        self.text_parts.append(data)
        if self._button is not None:
            self._button["text"] += data
        for _, _, parts in self._id_stack:
            parts.append(data)

    @property
    def text(self) -> str:
        return " ".join(" ".join(self.text_parts).split())


def parse_page(html: str) -> PageParser:
    p = PageParser()
    p.feed(html)
    p.close()
    return p


# --------------------------------------------------------------------------
# OAuth/HTTP helpers
# --------------------------------------------------------------------------


def token_request(server: ServerProcess, data, auth=None, headers=None) -> requests.Response:
    return requests.post(server.url("/oauth/token"), data=data, auth=auth, headers=headers,
                         timeout=HTTP_TIMEOUT)


def users_me(server: ServerProcess, token: str | None) -> requests.Response:
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    return requests.get(server.url("/api/1.0/users/me"), headers=headers, timeout=HTTP_TIMEOUT)


def password_grant(server: ServerProcess, client: Client, user: User, scope: str | None = None,
                   **extra) -> requests.Response:
    data = {"grant_type": "password", "username": user.username, "password": user.password, **extra}
    if scope is not None:
        data["scope"] = scope
    return token_request(server, data, auth=client.basic)


def assert_token_error(response: requests.Response, error: str | set, status: int | set = 400) -> dict:
    statuses = {status} if isinstance(status, int) else set(status)
    errors = {error} if isinstance(error, str) else set(error)
    assert response.status_code in statuses, (
        f"expected HTTP {statuses} with error {errors}, got {response.status_code}: {response.text[:500]}"
    )
    body = response.json()
    assert body.get("error") in errors, f"expected error in {errors}, got {body}"
    return body


def assert_no_store(response: requests.Response) -> None:
    """RFC 6749 §5.1: Cache-Control: no-store and Pragma: no-cache."""
    cc = [p.strip().lower() for p in response.headers.get("Cache-Control", "").split(",")]
    assert "no-store" in cc, f"Cache-Control was {response.headers.get('Cache-Control')!r}"
    assert response.headers.get("Pragma", "").lower() == "no-cache", (
        f"Pragma was {response.headers.get('Pragma')!r}"
    )


class Browser:
    """A person with a web browser (a requests.Session that keeps cookies and
    never follows redirects on its own)."""

    def __init__(self, server: ServerProcess):
        self.server = server
        self.session = requests.Session()

    def get(self, url: str, **kw) -> requests.Response:
        return self.session.get(urljoin(self.server.base_url + "/", url), allow_redirects=False,
                                timeout=HTTP_TIMEOUT, **kw)

    def post(self, url: str, data=None, **kw) -> requests.Response:
        return self.session.post(urljoin(self.server.base_url + "/", url), data=data,
                                 allow_redirects=False, timeout=HTTP_TIMEOUT, **kw)

    @staticmethod
    def single_form(resp: requests.Response, method: str = "post") -> Form:
        page = parse_page(resp.text)
        forms = [f for f in page.forms if f.method == method]
        assert len(forms) == 1, f"expected one {method} form on {resp.url}, found {len(forms)}:\n{resp.text[:2000]}"
        return forms[0]

    def login_page(self, next_path: str | None = None) -> tuple[requests.Response, Form]:
        url = "/login" + ("?" + urlencode({"next": next_path}) if next_path is not None else "")
        r = self.get(url)
        assert r.status_code == 200, f"GET {url}: {r.status_code} {r.text[:300]}"
        return r, self.single_form(r)

    def submit_login(self, login_response: requests.Response, form: Form, username: str,
                     password: str) -> requests.Response:
        data = form.fields()
        data["username"] = username
        data["password"] = password
        action = urljoin(login_response.url, form.action or login_response.url)
        return self.session.post(action, data=data, allow_redirects=False, timeout=HTTP_TIMEOUT)

    def login(self, user: User, next_path: str = "/") -> requests.Response:
        r, form = self.login_page(next_path)
        resp = self.submit_login(r, form, user.username, user.password)
        assert resp.status_code == 303, f"login failed: {resp.status_code} {resp.text[:500]}"
        return resp

    def open_authorize(self, params_or_url) -> requests.Response:
        url = params_or_url if isinstance(params_or_url, str) else "/oauth/authorize?" + urlencode(params_or_url)
        return self.get(url)

    def consent_page(self, params_or_url, user: User | None, remembered_ok: bool = False) -> requests.Response:
        """Open the authorization URL; sign in on the way if asked to; return
        the consent page (asserting it is one), or with ``remembered_ok`` the
        redirect of a remembered consent."""
        r = self.open_authorize(params_or_url)
        if r.status_code == 303 and urlsplit(r.headers["Location"]).path == "/login":
            assert user is not None, "not signed in and no user given"
            login = self.get(r.headers["Location"])
            assert login.status_code == 200, f"login page: {login.status_code}"
            resp = self.submit_login(login, self.single_form(login), user.username, user.password)
            assert resp.status_code == 303, f"login failed: {resp.status_code} {resp.text[:500]}"
            r = self.get(resp.headers["Location"])
        if remembered_ok and r.status_code == 302:
            return r
        assert r.status_code == 200, (
            f"expected the consent page, got {r.status_code} Location={r.headers.get('Location')} {r.text[:500]}"
        )
        return r

    def decide(self, consent: requests.Response, decision: str = "approve") -> requests.Response:
        form = self.single_form(consent)
        data = form.fields()
        data["decision"] = decision
        action = urljoin(consent.url, form.action or consent.url)
        return self.session.post(action, data=data, allow_redirects=False, timeout=HTTP_TIMEOUT)

    def authorize(self, params_or_url, user: User | None, decision: str = "approve") -> str:
        """Full browser leg: authorize URL -> (login) -> consent -> decision.
        Returns the Location the browser is sent to."""
        consent = self.consent_page(params_or_url, user, remembered_ok=decision == "approve")
        r = consent if consent.status_code == 302 else self.decide(consent, decision)
        assert r.status_code == 302, f"consent POST: {r.status_code} {r.text[:500]}"
        return r.headers["Location"]


def authorization_params(client: Client, redirect_uri: str | None = None, scope: str | None = "users:read",
                         state: str | None = None, challenge: str | None = None, **extra) -> dict:
    params = {"response_type": "code", "client_id": client.client_id,
              "redirect_uri": redirect_uri or client.redirect_uri}
    if scope is not None:
        params["scope"] = scope
    params["state"] = state if state is not None else secrets.token_urlsafe(8)
    if challenge is not None:
        params["code_challenge"] = challenge
        params["code_challenge_method"] = "S256"
    params.update(extra)
    return params


def get_code(server: ServerProcess, client: Client, user: User, browser: Browser | None = None,
             **params) -> str:
    """Authorization code for `client` approved by `user` (RFC 6749 §4.1.1-4.1.2)."""
    browser = browser or Browser(server)
    p = authorization_params(client, **params)
    location = browser.authorize(p, user)
    q = query_params(location)
    assert without_query(location) == p["redirect_uri"], location
    assert "code" in q, f"no code in {location}"
    assert q.get("state") == p["state"], location
    return q["code"]


def exchange_code(server: ServerProcess, client: Client, code: str, redirect_uri: str | None = None,
                  verifier: str | None = None, basic: bool = True) -> requests.Response:
    data = {"grant_type": "authorization_code", "code": code,
            "redirect_uri": redirect_uri or client.redirect_uri}
    if verifier is not None:
        data["code_verifier"] = verifier
    if client.client_secret is None:
        data["client_id"] = client.client_id
        return token_request(server, data)
    if basic:
        return token_request(server, data, auth=client.basic)
    data.update(client_id=client.client_id, client_secret=client.client_secret)
    return token_request(server, data)


def code_flow_tokens(server: ServerProcess, client: Client, user: User, scope: str = "users:read") -> dict:
    code = get_code(server, client, user, scope=scope)
    r = exchange_code(server, client, code)
    assert r.status_code == 200, r.text
    return r.json()


def refresh(server: ServerProcess, client: Client, refresh_token: str, **extra) -> requests.Response:
    data = {"grant_type": "refresh_token", "refresh_token": refresh_token, **extra}
    if client.client_secret is None:
        data["client_id"] = client.client_id
        return token_request(server, data)
    return token_request(server, data, auth=client.basic)


def revoke(server: ServerProcess, client: Client, token: str, **extra) -> requests.Response:
    """POST /oauth/revoke (RFC 7009 §2.1), authenticated with HTTP Basic (or client_id for public clients)."""
    data = {"token": token, **extra}
    if client.client_secret is None:
        data["client_id"] = client.client_id
        return requests.post(server.url("/oauth/revoke"), data=data, timeout=HTTP_TIMEOUT)
    return requests.post(server.url("/oauth/revoke"), data=data, auth=client.basic, timeout=HTTP_TIMEOUT)


def introspect(server: ServerProcess, client: Client, token: str, **extra) -> requests.Response:
    """POST /oauth/introspect (RFC 7662 §2.1) with HTTP Basic."""
    return requests.post(server.url("/oauth/introspect"), data={"token": token, **extra}, auth=client.basic,
                         timeout=HTTP_TIMEOUT)


def jwt_parts(token: str) -> tuple[dict, dict]:
    """Header and claims of a compact JWS, *without* verifying it."""
    def dec(s: str) -> dict:
        return json.loads(base64.urlsafe_b64decode(s + "=" * (-len(s) % 4)))
    h, p, _ = token.split(".")
    return dec(h), dec(p)


def b64url_json(obj: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(obj, separators=(",", ":")).encode()).rstrip(b"=").decode()


# --------------------------------------------------------------------------
# The JSON API (/api/1.0)
# --------------------------------------------------------------------------

API = "/api/1.0"


class Api:
    """The resource API with one bearer token (None: no Authorization header)."""

    def __init__(self, server: ServerProcess, token: str | None):
        self.server = server
        self.token = token

    def request(self, method: str, path: str, **kw) -> requests.Response:
        headers = dict(kw.pop("headers", {}) or {})
        if self.token is not None:
            headers.setdefault("Authorization", f"Bearer {self.token}")
        return requests.request(method, self.server.url(API + path), headers=headers, timeout=HTTP_TIMEOUT, **kw)

    def get(self, path: str, **kw) -> requests.Response:
        return self.request("GET", path, **kw)

    def post(self, path: str, json=None, **kw) -> requests.Response:
        return self.request("POST", path, json=json, **kw)

    def put(self, path: str, json=None, **kw) -> requests.Response:
        return self.request("PUT", path, json=json, **kw)

    def delete(self, path: str, **kw) -> requests.Response:
        return self.request("DELETE", path, **kw)

    def ok(self, method: str, path: str, status: int = 200, **kw):
        """The JSON of a request that must succeed with ``status`` (None for an empty 204)."""
        r = self.request(method, path, **kw)
        assert r.status_code == status, f"{method} {path}: expected {status}, got {r.status_code}: {r.text[:500]}"
        return r.json() if r.content else None


def api_for(server: ServerProcess, username: str, scopes=()) -> Api:
    """An Api authenticated by a fresh personal access token of ``username`` (made with the CLI)."""
    return Api(server, server.create_pat(username, scopes=scopes)["token"])


def eventually(produce, accept, timeout: float = 3.0, pause: float = 0.1):
    """``produce()`` until ``accept(value)``, for what other workers learn within a poll interval
    (a key rotated from the CLI is used by a running server within ~0.5 s); the last value otherwise."""
    deadline = time.monotonic() + timeout
    value = produce()
    while not accept(value) and time.monotonic() < deadline:
        time.sleep(pause)
        value = produce()
    return value


def user_via_api(admin: Api) -> User:
    """A new user made through the API (much quicker than a CLI process when a test needs many)."""
    username, password = unique("user"), "pw-" + secrets.token_urlsafe(12)
    email = f"{username}@example.org"
    data = admin.ok("POST", "/users", 201, json={"username": username, "email": email, "password": password})
    return User(username=username, password=password, email=email, id=data["id"], data=data)


def admin_api(server: ServerProcess) -> Api:
    return api_for(server, "admin")


def grant(admin: Api, user_id: int, *names: str) -> None:
    """Give a user exactly these permissions directly (PUT /permissions)."""
    admin.ok("PUT", "/permissions", 204, json={"user_id": user_id, "permission_names": list(names)})


def assert_unauthenticated(r: requests.Response) -> None:
    assert r.status_code == 401, f"expected 401, got {r.status_code}: {r.text[:300]}"
    assert r.json() == {"error": "Unauthenticated."}
    assert r.headers.get("WWW-Authenticate", "").startswith("Bearer")


def assert_forbidden(r: requests.Response, scope: str | None = None) -> dict:
    """403 in ProcessMaker's shape; with ``scope``, RFC 6750's insufficient_scope naming it."""
    assert r.status_code == 403, f"expected 403, got {r.status_code}: {r.text[:300]}"
    body = r.json()
    assert body["message"] == "This action is unauthorized.", body
    if scope is not None:
        assert body.get("error") == "insufficient_scope", body
        assert scope in r.headers.get("WWW-Authenticate", ""), r.headers
    else:
        assert body.get("error") != "insufficient_scope", body
    return body


def assert_not_found(r: requests.Response) -> None:
    assert r.status_code == 404, f"expected 404, got {r.status_code}: {r.text[:300]}"
    assert r.json() == {"error": "Not Found"}


def assert_conflict(r: requests.Response, field: str) -> dict:
    """409 in the API's error shape, naming ``field`` (a name or address already in use)."""
    assert r.status_code == 409, f"expected 409, got {r.status_code}: {r.text[:300]}"
    body = r.json()
    assert set(body["errors"]) == {field} and all(isinstance(m, str) and m for m in body["errors"][field]), body
    return body


def assert_invalid(r: requests.Response, *fields: str) -> dict:
    """422 in ProcessMaker's shape, naming each of ``fields``."""
    assert r.status_code == 422, f"expected 422, got {r.status_code}: {r.text[:300]}"
    body = r.json()
    assert body["message"] == "The given data was invalid.", body
    assert isinstance(body["errors"], dict) and body["errors"], body
    for name in fields:
        assert name in body["errors"], f"no error for {name}: {body}"
        assert all(isinstance(m, str) and m for m in body["errors"][name]), body
    return body


def from_address(ip: str) -> requests.Session:
    """A requests session whose connections leave from ``ip`` (any 127.x.y.z on Linux): another peer
    address for the per-address limits, without trusting any forwarded header."""
    from requests.adapters import HTTPAdapter

    class _Bound(HTTPAdapter):
        def init_poolmanager(self, *args, **kwargs):
            kwargs["source_address"] = (ip, 0)
            super().init_poolmanager(*args, **kwargs)

    session = requests.Session()
    session.mount("http://", _Bound())
    return session
