"""Where authgate's time goes: py-spy samples the server while wrk drives W1 and W2, twice each:
with ``--gil`` (the thread running Python code: where the CPU goes) and without (every thread that
is not idle: where requests wait, e.g. for SQLite's write lock). The raw stacks are folded into the
functions holding the most samples (inclusive and own time)."""

from __future__ import annotations

import subprocess
from collections import Counter
from pathlib import Path

from benchlib import wrk
from benchlib.env import VENV
from benchlib.runner import settle
from benchlib.targets.authgate import Authgate

PROFILED = ("W1", "W2")
TOP = 25
LAYERS = (
    ("database: SQLAlchemy + sqlite3", ("sqlalchemy/", "sqlite3/", "psycopg/")),
    ("JOSE + crypto: joserfc, cryptography", ("joserfc/", "cryptography/")),
    ("password hashing: argon2", ("argon2/",)),
    ("Authlib", ("authlib/",)),
    ("authgate's own code", ("authgate/",)),
    ("FastAPI + Starlette (+ pydantic)", ("fastapi/", "starlette/", "pydantic")),
    ("uvicorn + httptools/uvloop (HTTP)", ("uvicorn/", "h11/", "httptools/", "uvloop/")),
    ("event loop, thread pool, sockets", ("asyncio/", "anyio/", "threading.py", "selectors.py", "socket.py",
                                          "concurrent/", "weakref.py", "queue.py")),
)
IDLE_LEAVES = {"Condition.wait", "EpollSelector.select", "Event.wait", "Thread.join", "SimpleQueue.get"}


def run_profile(workdir: Path, config: wrk.Config, tool: str, out_dir: Path, log, workloads=PROFILED) -> dict:
    target = Authgate(workdir)
    target.start()
    summaries = {}
    try:
        for name in workloads:
            spec = target.spec(name)
            wrk.run(tool, target.server.base_url, spec, config, workdir, duration=2)
            settle(target)
            for mode in ("gil", "wall"):
                raw = out_dir / f"profile-{name}-{mode}.folded"
                argv = [str(VENV / "bin" / "py-spy"), "record", "--pid", str(target.server.proc.pid),
                        "--duration", str(config.duration), "--rate", "200", "--nonblocking",
                        "--format", "raw", "--output", str(raw)] + (["--gil"] if mode == "gil" else [])
                spy = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                figures = wrk.run(tool, target.server.base_url, spec, config, workdir)
                spy.wait(timeout=60)
                settle(target)
                key = f"{name}-{mode}"
                summaries[key] = {"rps": figures["rps"], "report": fold(raw)}
                (out_dir / f"profile-{key}.txt").write_text(summaries[key]["report"])
                log(f"   {key}: {figures['rps']:.0f} req/s under py-spy -> {raw.name}")
    finally:
        target.stop()
    return summaries


def fold(raw: Path) -> str:
    """Top functions by inclusive and by own samples, from py-spy's collapsed stacks."""
    inclusive: Counter = Counter()
    own: Counter = Counter()
    layers: Counter = Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack:
            continue
        n = int(count)
        frames = [_short(f) for f in stack.split(";")]
        if frames[-1].split(" ")[0] in IDLE_LEAVES:
            continue
        total += n
        own[frames[-1]] += n
        layers[_layer(frames[-1])] += n
        for frame in set(frames):
            inclusive[frame] += n
    if not total:
        return "no samples\n"
    lines = [f"{total} samples (idle threads left out)", "", "own time by layer:"]
    lines += [f"  {100 * n / total:5.1f}%  {layer}" for layer, n in layers.most_common()]
    lines += ["", "inclusive (the function and what it calls):"]
    lines += [f"  {100 * n / total:5.1f}%  {f}" for f, n in inclusive.most_common(TOP)]
    lines += ["", "own time:"]
    lines += [f"  {100 * n / total:5.1f}%  {f}" for f, n in own.most_common(TOP)]
    return "\n".join(lines) + "\n"


def _short(frame: str) -> str:
    """'func (path/to/site-packages/pkg/mod.py:12)' -> 'func (pkg/mod.py)'."""
    name, _, where = frame.partition(" (")
    where = where.rstrip(")").rsplit(":", 1)[0]
    for marker in ("site-packages/", "/src/", "/lib/python3"):
        if marker in where:
            where = where.split(marker, 1)[1]
            break
    return f"{name} ({where})"


def _layer(frame: str) -> str:
    where = frame.rpartition("(")[2]
    for name, markers in LAYERS:
        if any(m in where for m in markers):
            return name
    return "other (json, os, stdlib)"
