"""Workload specs and one wrk run each: the load generator pinned to its own core, figures read
from the JSON line that lua/bench.lua prints."""

from __future__ import annotations

import base64
import json
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

from benchlib.env import BENCH
from benchlib.procs import LOAD_CORE, pinned

SCRIPT = BENCH / "lua" / "bench.lua"
FORM = "application/x-www-form-urlencoded"


@dataclass
class Spec:
    """One workload on one server: a request sent again and again, or a pool of bodies sent once each."""

    method: str
    path: str
    headers: dict = field(default_factory=dict)
    body: str = ""
    pool: list[str] | None = None
    note: str = ""

    def write(self, directory: Path) -> Path:
        mode = "POOL" if self.pool is not None else "ONE"
        lines = [f"{mode} {self.method} {self.path}", *(f"{k}: {v}" for k, v in self.headers.items()), ""]
        text = "\n".join(lines) + "\n" + ("\n".join(self.pool) + "\n" if self.pool is not None else self.body)
        handle = tempfile.NamedTemporaryFile("w", dir=directory, suffix=".spec", delete=False)
        with handle:
            handle.write(text)
        return Path(handle.name)


@dataclass
class Config:
    duration: int
    connections: int
    threads: int
    warmup: int


def basic(client_id: str, secret: str) -> dict:
    token = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    return {"Authorization": "Basic " + token}


def bearer(token: str) -> dict:
    return {"Authorization": "Bearer " + token}


def form_post(path: str, fields: dict, headers: dict | None = None, note: str = "") -> Spec:
    return Spec("POST", path, {"Content-Type": FORM, **(headers or {})}, urlencode(fields), note=note)


def pool_post(path: str, bodies: list[dict], headers: dict | None = None, note: str = "") -> Spec:
    return Spec("POST", path, {"Content-Type": FORM, **(headers or {})}, pool=[urlencode(b) for b in bodies], note=note)


def run(wrk: str, base_url: str, spec: Spec, config: Config, workdir: Path, duration: int | None = None) -> dict:
    """One wrk run; returns requests/s, p50/p99 (ms), errors and the rest of the figures."""
    spec_file = spec.write(workdir)
    seconds = duration or config.duration
    argv = pinned(LOAD_CORE, [
        wrk, f"-t{config.threads}", f"-c{config.connections}", f"-d{seconds}s", "--timeout", "10s",
        "-s", str(SCRIPT), base_url, "--", str(spec_file), str(config.threads),
    ])
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 60)
    spec_file.unlink()
    line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("BENCH_JSON ")), None)
    if line is None:
        raise RuntimeError(f"wrk printed no figures (exit {proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    raw = json.loads(line[len("BENCH_JSON "):])
    requests, seconds_run = raw["requests"], raw["duration_us"] / 1e6
    if spec.pool is not None and raw["pool_us"]:
        requests, seconds_run = raw["pool_answers"], raw["pool_us"] / 1e6
    socket_errors = raw["connect"] + raw["read"] + raw["write"] + raw["timeout"]
    return {
        "rps": round(requests / seconds_run, 1) if seconds_run else 0.0,
        "p50_ms": round(raw["p50_us"] / 1000, 2),
        "p99_ms": round(raw["p99_us"] / 1000, 2),
        "requests": requests,
        "seconds": round(seconds_run, 2),
        "errors": raw["non2xx"] + socket_errors,
        "non2xx": raw["non2xx"],
        "socket_errors": socket_errors,
        "error_sample": raw["sample"],
        **({"pool": len(spec.pool), "pool_used_up": raw["pool_answers"] >= len(spec.pool) - 1}
           if spec.pool is not None else {}),
    }
