"""Authlib's Flask example server (our copy of its structure in bench/peers/authlib_flask), served
by gunicorn with sync workers (one unless --workers) on a file SQLite database or PostgreSQL. Client secrets are kept in clear, as in
the example; passwords are hashed with Werkzeug's default (see the peer's models.py)."""

from __future__ import annotations

import json
import os
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

PEER = BENCH / "peers" / "authlib_flask"


class AuthlibFlask(Target):
    name = "authlib_flask"
    label = "Authlib Flask example"

    def __init__(self, workdir: Path, run: Pass = Pass()):
        super().__init__(workdir, run=run)
        database = (self.postgres_database().url("postgresql+psycopg") if run.db == "postgres"
                    else f"sqlite:///{self.workdir / 'db.sqlite'}")
        self.env = {**os.environ, "PEER_DATABASE_URL": database,
                    "AUTHLIB_INSECURE_TRANSPORT": "1", "PYTHONPATH": str(PEER)}
        self.password = "pw-" + secrets.token_urlsafe(12)

    def start(self) -> None:
        out = subprocess.run([sys.executable, str(PEER / "seed.py"), "seed", self.password], env=self.env,
                             cwd=PEER, capture_output=True, text=True, check=True)
        self.seed = json.loads(out.stdout)
        port = free_port()
        argv = [str(VENV / "bin" / "gunicorn"), "--workers", str(self.run.workers), "--bind", f"127.0.0.1:{port}",
                "--chdir", str(PEER), "app:app"]
        self.server = Server(self.name, argv, self.env, self.workdir, port, "/api/me")
        self.facts["password_hash"] = "werkzeug generate_password_hash default: " + _werkzeug_method()
        self.facts["client_secret_hash"] = "none (stored in clear, as in the example)"

    @property
    def _client(self) -> dict:
        return basic(self.seed["client_id"], self.seed["client_secret"])

    def spec(self, workload: str) -> Spec:
        s = self.seed
        if workload in ("W1", "W1b"):
            note = "" if workload == "W1" else "no PATs: its own opaque access token, as in W1"
            return Spec("GET", "/api/me", bearer(s["api_token"]), note=note)
        if workload == "W2":
            return form_post("/oauth/token", {"grant_type": "client_credentials", "scope": s["scope"]}, self._client)
        if workload == "W3":
            return form_post("/oauth/introspect", {"token": s["api_token"]}, self._client,
                             note="introspection endpoint added as Authlib's docs write it")
        if workload == "W6":
            return form_post("/oauth/token", {"grant_type": "password", "username": s["username"],
                                              "password": self.password, "scope": s["scope"]}, self._client,
                             note=self.facts["password_hash"])
        raise NotApplicable("not offered")

    def code_pool_spec(self, count: int) -> Spec:
        s = self.seed
        query = {"response_type": "code", "client_id": s["client_id"], "redirect_uri": s["redirect_uri"],
                 "scope": s["scope"], "state": "bench", "code_challenge": PKCE_CHALLENGE,
                 "code_challenge_method": "S256"}
        url = self.server.base_url + "/oauth/authorize"

        def one(session: requests.Session) -> str:
            return code_from(session.post(url, params=query, data={"username": s["username"], "confirm": "on"},
                                          allow_redirects=False, timeout=30))

        codes = mint(count, requests.Session(), one)
        bodies = [{"grant_type": "authorization_code", "code": c, "redirect_uri": s["redirect_uri"],
                   "code_verifier": PKCE_VERIFIER} for c in codes]
        return pool_post("/oauth/token", bodies, self._client)

    def refresh_pool_spec(self, count: int) -> Spec:
        out = self.workdir / "refresh.txt"
        subprocess.run([sys.executable, str(PEER / "seed.py"), "refresh", self.seed["client_id"], str(count),
                        str(out)], env=self.env, cwd=PEER, check=True)
        bodies = [{"grant_type": "refresh_token", "refresh_token": t} for t in out.read_text().split()]
        return pool_post("/oauth/token", bodies, self._client)


def _werkzeug_method() -> str:
    from werkzeug.security import generate_password_hash

    return generate_password_hash("x").split("$", 1)[0]
