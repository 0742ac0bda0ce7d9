"""panva's oidc-provider (Node.js) on a persistent SQLite adapter (better-sqlite3, WAL,
synchronous=NORMAL), served by Node's http server, one process per worker (node:cluster for more).
Its configuration and why: bench/peers/oidc_provider/README.md. It has no password grant (OAuth 2.1
drops it), so W6 is reported as unsupported."""

from __future__ import annotations

import json
import secrets
import subprocess
from pathlib import Path

from benchlib import node
from benchlib.minting import PKCE_CHALLENGE, PKCE_VERIFIER
from benchlib.procs import Server, free_port
from benchlib.targets.base import NotApplicable, Pass, Target
from benchlib.wrk import Spec, basic, bearer, form_post, pool_post

PEER = node.PEER


class OidcProvider(Target):
    name = "oidc_provider"
    label = "oidc-provider (Node)"
    databases = ("sqlite",)

    def __init__(self, workdir: Path, run: Pass = Pass()):
        super().__init__(workdir, run=run)
        self.state_file = self.workdir / "state.json"
        self.database = self.workdir / "db.sqlite"

    def _script(self, *args: str) -> None:
        subprocess.run([str(node.NODE), str(PEER / "seed.js"), *args], env=self.env, cwd=PEER, check=True,
                       capture_output=True, text=True)

    def start(self) -> None:
        self.env = node.ensure_peer()
        port = free_port()
        self._script("seed", str(self.state_file), str(self.database), f"http://127.0.0.1:{port}")
        self.seed = json.loads(self.state_file.read_text())
        argv = [str(node.NODE), str(PEER / "server.js"), str(self.state_file), str(self.database), str(port),
                str(self.run.workers)]
        self.server = Server(self.name, argv, self.env, self.workdir, port, "/jwks")
        self.facts["password_hash"] = "none (no password grant)"
        self.facts["client_secret_hash"] = "none (static client, secret compared in clear)"
        self.facts["node"] = node.version(self.env)

    @property
    def _client(self) -> dict:
        return basic(self.seed["client_id"], self.seed["client_secret"])

    def spec(self, workload: str) -> Spec:
        s = self.seed
        if workload in ("W1", "W1b"):
            note = ("userinfo (/me) with its opaque access token" if workload == "W1"
                    else "no PATs: its own opaque access token at userinfo, as in W1")
            return Spec("GET", "/me", bearer(s["api_token"]), note=note)
        if workload == "W2":
            return form_post("/token", {"grant_type": "client_credentials", "scope": "api:read"}, self._client)
        if workload == "W3":
            return form_post("/token/introspection", {"token": s["api_token"]}, self._client)
        if workload == "W6":
            raise NotApplicable("unsupported: oidc-provider has no password grant")
        raise NotApplicable("not offered")

    def _minted(self, kind: str, count: int) -> list[str]:
        out = self.workdir / f"{kind}-{secrets.token_hex(4)}.txt"
        self._script(kind, str(self.state_file), str(self.database), str(count), str(out), PKCE_CHALLENGE)
        return out.read_text().split()

    def code_pool_spec(self, count: int) -> Spec:
        bodies = [{"grant_type": "authorization_code", "code": c, "redirect_uri": self.seed["redirect_uri"],
                   "code_verifier": PKCE_VERIFIER} for c in self._minted("codes", count)]
        return pool_post("/token", bodies, self._client, note="codes minted in-process through its models")

    def refresh_pool_spec(self, count: int) -> Spec:
        bodies = [{"grant_type": "refresh_token", "refresh_token": t} for t in self._minted("refresh", count)]
        return pool_post("/token", bodies, self._client)
