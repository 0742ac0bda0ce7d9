"""django-oauth-toolkit with its defaults (client secrets hashed with Django's PBKDF2, PKCE
required, refresh tokens rotated) on Django with DEBUG off, served by gunicorn with sync workers
(one unless --workers) on a file SQLite database or PostgreSQL."""

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

PEER = BENCH / "peers" / "dot"


class DjangoOAuthToolkit(Target):
    name = "dot"
    label = "django-oauth-toolkit"

    def __init__(self, workdir: Path, run: Pass = Pass()):
        super().__init__(workdir, run=run)
        database = ({"PEER_DATABASE_URL": self.postgres_database().url()} if run.db == "postgres"
                    else {"PEER_DATABASE_PATH": str(self.workdir / "db.sqlite3")})
        self.env = {**os.environ, **database,
                    "DJANGO_SETTINGS_MODULE": "benchsite.settings", "PYTHONPATH": str(PEER)}
        self.password = "pw-" + secrets.token_urlsafe(12)

    def manage(self, *args: str) -> str:
        out = subprocess.run([sys.executable, str(PEER / "manage.py"), *args], env=self.env, cwd=PEER,
                             capture_output=True, text=True)
        if out.returncode:
            raise RuntimeError(f"manage.py {args[0]}: {out.stderr[-2000:]}")
        return out.stdout

    def start(self) -> None:
        self.manage("migrate", "-v0")
        self.seed = json.loads(self.manage("bench_seed", "--password", self.password))
        port = free_port()
        argv = [str(VENV / "bin" / "gunicorn"), "--workers", str(self.run.workers), "--bind", f"127.0.0.1:{port}",
                "--chdir", str(PEER), "benchsite.wsgi"]
        self.server = Server(self.name, argv, self.env, self.workdir, port, "/api/me")
        hasher = subprocess.run(
            [sys.executable, "-c", "import django; django.setup(); from django.contrib.auth.hashers import "
             "get_hasher; h = get_hasher(); print(h.algorithm, h.iterations)"],
            env=self.env, cwd=PEER, capture_output=True, text=True, check=True).stdout.split()
        self.facts["password_hash"] = f"Django {hasher[0]} {hasher[1]} iterations"
        self.facts["client_secret_hash"] = f"Django {hasher[0]} {hasher[1]} iterations (DOT default)"

    def _app(self, grant: str) -> dict:
        app = self.seed["apps"][grant]
        return basic(app["client_id"], app["client_secret"])

    def spec(self, workload: str) -> Spec:
        s = self.seed
        if workload in ("W1", "W1b"):
            note = "" if workload == "W1" else "no PATs: its own opaque access token, as in W1"
            return Spec("GET", "/api/me", bearer(s["api_token"]), note=note)
        if workload == "W2":
            return form_post("/o/token/", {"grant_type": "client_credentials", "scope": "read"},
                             self._app("client-credentials"))
        if workload == "W3":
            return form_post("/o/introspect/", {"token": s["api_token"]}, bearer(s["introspection_token"]),
                             note="authorised by a bearer token with scope introspection (no PBKDF2)")
        if workload == "W6":
            return form_post("/o/token/", {"grant_type": "password", "username": s["username"],
                                           "password": self.password, "scope": "read"}, self._app("password"),
                             note=self.facts["password_hash"] + " (client secret and password)")
        raise NotApplicable("not offered")

    def code_pool_spec(self, count: int) -> Spec:
        base = self.server.base_url
        browser = requests.Session()
        page = browser.get(base + "/accounts/login/", timeout=30)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
        login = browser.post(base + "/accounts/login/", allow_redirects=False, timeout=60,
                             data={"username": self.seed["username"], "password": self.password,
                                   "csrfmiddlewaretoken": token, "next": "/api/me"})
        if login.status_code != 302:
            raise RuntimeError(f"DOT sign-in failed: {login.status_code}")
        app = self.seed["apps"]["authorization-code"]
        query = {"response_type": "code", "client_id": app["client_id"], "redirect_uri": self.seed["redirect_uri"],
                 "scope": "read", "state": "bench", "code_challenge": PKCE_CHALLENGE,
                 "code_challenge_method": "S256"}

        def one(session: requests.Session) -> str:
            return code_from(session.get(base + "/o/authorize/", params=query, allow_redirects=False, timeout=30))

        codes = mint(count, browser, one)
        bodies = [{"grant_type": "authorization_code", "code": c, "redirect_uri": self.seed["redirect_uri"],
                   "code_verifier": PKCE_VERIFIER} for c in codes]
        return pool_post("/o/token/", bodies, self._app("authorization-code"))

    def refresh_pool_spec(self, count: int) -> Spec:
        out = self.workdir / "refresh.txt"
        self.manage("bench_refresh", str(count), str(out))
        bodies = [{"grant_type": "refresh_token", "refresh_token": t} for t in out.read_text().split()]
        return pool_post("/o/token/", bodies, self._app("authorization-code"))
