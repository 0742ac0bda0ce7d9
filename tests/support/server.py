"""A real `authgate serve` subprocess on its own port and database, and its CLI (as a subprocess or in-process)."""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

from seed import InProcessCommands
from support.databases import new_database
from support.values import Client, User, unique

HTTP_TIMEOUT = 15
SHORT_TTL = 3  # seconds: codes and tokens of the short_ttl_server fixture
CLI_TIMEOUT = 60
# A start is CPU (imports; on a fresh database the migrations): 2 s on a quiet machine, 30 s at load 13
# with other suites running. Only a server that never comes up waits this long.
START_TIMEOUT = 120


# Listening ports come from 20000-32767, below Linux's ephemeral range (32768-60999), so an outgoing
# connection of any process never holds the port a server is about to bind. Under pytest-xdist each
# worker hands out ports from its own slice only: between free_port() and the server's bind (a second
# or two of interpreter start) no other worker can pick the same port, and a server that lost its
# port can never have its /healthz answered by another worker's server.
_PORTS = range(20000, 32768)
_next_port: int | None = None


def _worker_ports() -> range:
    index = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or 0)
    count = max(1, int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1")))
    size = len(_PORTS) // count
    return range(_PORTS.start + index * size, _PORTS.start + (index + 1) * size)


def free_port() -> int:
    """A loopback port nothing listens on, from this worker's slice, in turn from a random start (two
    suites run side by side on one machine rarely walk the same ports at the same time)."""
    global _next_port
    ports = _worker_ports()
    if _next_port is None:
        _next_port = ports.start + secrets.randbelow(len(ports))
    for _ in range(len(ports)):
        port = _next_port
        _next_port = ports.start + (port + 1 - ports.start) % len(ports)
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free loopback port in {ports.start}-{ports.stop - 1}")


class ServerProcess:
    """A real `authgate serve` subprocess on its own port and its own database.

    `env` overrides are applied on top of the defaults; a value of None removes
    the variable (e.g. AUTHGATE_ADMIN_PASSWORD=None to get a generated one).
    `host` names the server in its base URL and issuer: "localhost" for WebAuthn,
    which browsers refuse on an IP address. Its database is a copy of the migrated
    template (support/databases.py), or with `fresh` empty, for serve's migrations.
    `workers` > 1 runs `serve --workers N`: requests spread over that many processes.
    """

    def __init__(self, workdir: Path, env: dict | None = None, host: str = "127.0.0.1", fresh: bool = False,
                 workers: int = 1):
        self.workers = workers
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.base_url = f"http://{host}:{self.port}"
        self.issuer = self.base_url
        self.admin_password = "admin-pw-" + secrets.token_hex(8)
        self.db = new_database(self.workdir, fresh)
        base_env = {k: v for k, v in os.environ.items() if not k.startswith("AUTHGATE_")}
        base_env.update(
            {
                "AUTHGATE_DATABASE_URL": self.db.url,
                # its own home, not the user's ~/.local/share/authgate that every worker and suite would share
                "AUTHGATE_HOME": str(self.workdir),
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

    def start(self, timeout: float = START_TIMEOUT) -> "ServerProcess":
        self._stdout = open(self.stdout_path, "wb")
        self._stderr = open(self.stderr_path, "wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "authgate", "serve", "--host", "127.0.0.1", "--port", str(self.port),
             "--workers", str(self.workers)],
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
