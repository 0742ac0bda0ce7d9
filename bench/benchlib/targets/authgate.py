"""authgate itself: `authgate serve` (uvicorn, one worker) on a file SQLite database with the
production argon2id cost (or AUTHGATE_ARGON2_* from the caller's environment); a user, a client
allowed every grant, a PAT and a JWT made through the CLI and the token endpoint, as a deployment
would."""

from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import requests

from benchlib.env import BENCH, VENV
from benchlib.minting import PKCE_CHALLENGE, PKCE_VERIFIER, code_from, mint
from benchlib.procs import Server, free_port
from benchlib.targets.base import NotApplicable, Pass, Target
from benchlib.wrk import Spec, basic, bearer, form_post, pool_post

REDIRECT_URI = "http://127.0.0.1:9/cb"
SCOPE = "users:read"
USERNAME = "bench"
PASSED_THROUGH = ("AUTHGATE_ARGON2_TIME_COST", "AUTHGATE_ARGON2_MEMORY_KIB")
# wrk is one client at one address, thousands of times a second: the per-IP and per-client limits stay
# switched on (their bookkeeping is on the measured path) but are set out of reach. The peers have none.
UNREACHABLE_LIMITS = {name: "100000000/60" for name in (
    "AUTHGATE_LIMIT_TOKEN_PER_IP", "AUTHGATE_LIMIT_TOKEN_PER_CLIENT", "AUTHGATE_LIMIT_LOGIN_PER_IP")}


class Authgate(Target):
    name = "authgate"
    label = "authgate"

    def __init__(self, workdir: Path, subdir: str | None = None, run: Pass = Pass()):
        super().__init__(workdir, subdir, run)
        self.port = free_port()
        self.password = "pw-" + secrets.token_urlsafe(12)
        database = (self.postgres_database().url("postgresql+psycopg") if run.db == "postgres"
                    else f"sqlite:///{self.workdir / 'authgate.db'}")
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("AUTHGATE_") or k in PASSED_THROUGH},
            "AUTHGATE_DATABASE_URL": database,
            "AUTHGATE_ISSUER": f"http://127.0.0.1:{self.port}",
            "AUTHGATE_ADMIN_PASSWORD": "admin-" + secrets.token_urlsafe(12),
            "AUTHGATE_AUTH_CODE_TTL": "3600",
            **UNREACHABLE_LIMITS,
        }

    def cli(self, *args: str, stdin: str | None = None) -> dict:
        proc = subprocess.run([str(VENV / "bin" / "authgate"), *args, "--json"], env=self.env, input=stdin,
                              capture_output=True, text=True, cwd=self.workdir, check=False)
        if proc.returncode:
            raise RuntimeError(f"authgate {' '.join(args)}: {proc.stderr}")
        return json.loads(proc.stdout)

    def start(self) -> None:
        self.prepare()
        self.launch()

    def prepare(self) -> None:
        """The schema, a user, a client allowed every grant and a PAT, through the CLI."""
        subprocess.run([str(VENV / "bin" / "authgate"), "db", "upgrade"], env=self.env, cwd=self.workdir,
                       check=True, capture_output=True)
        self.cli("users", "create", USERNAME, "--email", "bench@example.org", "--password-stdin", stdin=self.password)
        client = self.cli("clients", "create", "--name", "bench", "--redirect-uri", REDIRECT_URI,
                          "--grant", "authorization_code", "--grant", "password",
                          "--grant", "client_credentials", "--grant", "refresh_token")
        self.client_id, self.client_secret = client["client_id"], client["client_secret"]
        self.pat = self.cli("tokens", "create", "--user", USERNAME, "--name", "bench", "--scope", SCOPE)["token"]
        self.jwt = None

    def launch(self) -> None:
        """Serve, and get a JWT from the token endpoint the first time."""
        argv = [str(VENV / "bin" / "authgate"), "serve", "--host", "127.0.0.1", "--port", str(self.port),
                "--workers", str(self.run.workers)]
        self.server = Server(self.name, argv, self.env, self.workdir, self.port, "/healthz", "/oauth/jwks")
        if self.jwt is None:
            response = requests.post(self.server.base_url + "/oauth/token", data=self._password_fields(),
                                     auth=(self.client_id, self.client_secret), timeout=30)
            response.raise_for_status()
            self.jwt = response.json()["access_token"]
            self.facts.update(self._settings_facts())

    def _settings_facts(self) -> dict:
        code = ("import json; from authgate.settings import load; s = load(); "
                "print(json.dumps({'argon2_time_cost': s.argon2_time_cost, 'argon2_memory_kib': s.argon2_memory_kib}))")
        out = subprocess.run([sys.executable, "-c", code], env=self.env, capture_output=True, text=True, check=True)
        facts = json.loads(out.stdout)
        facts["password_hash"] = (f"argon2id t={facts['argon2_time_cost']} m={facts['argon2_memory_kib']} KiB p=1")
        facts["client_secret_hash"] = "HMAC-SHA-256"
        return facts

    def _password_fields(self) -> dict:
        return {"grant_type": "password", "username": USERNAME, "password": self.password, "scope": SCOPE}

    @property
    def _client(self) -> dict:
        return basic(self.client_id, self.client_secret)

    def spec(self, workload: str) -> Spec:
        if workload == "W1":
            return Spec("GET", "/api/1.0/users/me", bearer(self.jwt))
        if workload == "W1b":
            return Spec("GET", "/api/1.0/users/me", bearer(self.pat))
        if workload == "W2":
            return form_post("/oauth/token", {"grant_type": "client_credentials", "scope": SCOPE}, self._client)
        if workload == "W3":
            probe = requests.post(self.server.base_url + "/oauth/introspect", data={"token": self.jwt},
                                  auth=(self.client_id, self.client_secret), timeout=30)
            if probe.status_code == 404:
                raise NotApplicable("no /oauth/introspect on this build (404)")
            return form_post("/oauth/introspect", {"token": self.jwt}, self._client)
        if workload == "W6":
            return form_post("/oauth/token", self._password_fields(), self._client,
                             note=self.facts["password_hash"])
        raise NotApplicable("not offered")

    def code_pool_spec(self, count: int) -> Spec:
        browser = requests.Session()
        login = browser.get(self.server.base_url + "/login", timeout=30)
        fields = {"username": USERNAME, "password": self.password, "next": "/",
                  "csrf_token": _csrf(login.text)}
        signed_in = browser.post(self.server.base_url + "/login", data=fields, allow_redirects=False, timeout=30)
        if signed_in.status_code != 303:
            raise RuntimeError(f"authgate sign-in failed: {signed_in.status_code}")
        query = {"response_type": "code", "client_id": self.client_id, "redirect_uri": REDIRECT_URI,
                 "scope": SCOPE, "state": "bench", "code_challenge": PKCE_CHALLENGE,
                 "code_challenge_method": "S256"}
        consent = browser.get(self.server.base_url + "/oauth/authorize", params=query, timeout=30)
        action = consent.url
        decision = {"csrf_token": _csrf(consent.text), "decision": "approve"}
        shown = re.search(r'name="shown" value="([^"]+)"', consent.text)
        if shown:  # what the page showed, which the answer must match
            decision["shown"] = shown.group(1)

        def one(session: requests.Session) -> str:
            return code_from(session.post(action, data=decision, allow_redirects=False, timeout=30))

        codes = mint(count, browser, one)
        bodies = [{"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI,
                   "code_verifier": PKCE_VERIFIER} for code in codes]
        return pool_post("/oauth/token", bodies, self._client)

    def refresh_pool_spec(self, count: int) -> Spec:
        """Refresh tokens minted in-process by authgate's own TokenService (no HTTP, no argon2)."""
        out = self.workdir / "refresh.txt"
        subprocess.run([sys.executable, str(BENCH / "benchlib" / "authgate_mint.py"), USERNAME, self.client_id,
                        SCOPE, str(count), str(out)], env=self.env, check=True)
        tokens = out.read_text().split()
        bodies = [{"grant_type": "refresh_token", "refresh_token": t} for t in tokens]
        return pool_post("/oauth/token", bodies, self._client)


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    if not match:
        raise RuntimeError("no csrf_token on the page")
    return match.group(1)
