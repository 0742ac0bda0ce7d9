"""Flat cost as data grows: authgate's W1, W1b, W2 and W3 on a database with 10^3 stored tokens of
each kind and on one with 10^6 (filled by bench/seed.py's bulk inserts). The two servers take
turns, round after round, so that a change in the machine's load falls on both alike; each figure
is the median of the rounds."""

from __future__ import annotations

import statistics
import time
from pathlib import Path

from benchlib import wrk
from benchlib.runner import measure
from benchlib.seeding import seed
from benchlib.targets.authgate import Authgate
from benchlib.targets.base import NotApplicable

SMALL = 1_000
GROWTH_WORKLOADS = ("W1", "W1b", "W2", "W3")
ROUNDS = 3


def run_growth(workdir: Path, config: wrk.Config, tool: str, large: int, log) -> dict:
    sizes = (SMALL, large)
    targets = {}
    seed_seconds = {}
    for size in sizes:
        target = Authgate(workdir, f"authgate-{size}")
        target.prepare()
        started = time.monotonic()
        seed(size, target.env["AUTHGATE_DATABASE_URL"])
        seed_seconds[size] = round(time.monotonic() - started, 1)
        log(f"== seeded {size:,} stored tokens of each kind in {seed_seconds[size]:.0f} s")
        targets[size] = target
    rounds: dict[int, list[dict]] = {size: [] for size in sizes}
    for number in range(1, ROUNDS + 1):
        for size in sizes:
            log(f"== round {number}: authgate with {size:,} stored tokens of each kind")
            rounds[size].append(_one_round(targets[size], config, tool, log))
    runs = {str(size): {"_seed_seconds": seed_seconds[size], **_median(rounds[size])} for size in sizes}
    return {"sizes": list(sizes), "rounds": ROUNDS, "runs": runs,
            "all_rounds": {str(size): rounds[size] for size in sizes}}


def _one_round(target: Authgate, config: wrk.Config, tool: str, log) -> dict:
    target.launch()
    results: dict[str, dict] = {}
    try:
        for name in GROWTH_WORKLOADS:
            try:
                spec = target.spec(name)
            except NotApplicable as reason:
                results[name] = {"na": str(reason)}
                continue
            results[name] = r = measure(target, spec, config, tool, target.workdir, warm=True)
            log(f"   {name:4} {r['rps']:>9.1f} req/s  cpu {r['cpu_ms_per_request']} ms/req  p50 {r['p50_ms']:.2f} ms  "
                f"p99 {r['p99_ms']:.2f} ms  errors {r['errors']}")
    finally:
        target.stop()
    return results


def _median(rounds: list[dict]) -> dict:
    out = {}
    for name in GROWTH_WORKLOADS:
        measured = [r[name] for r in rounds if name in r and "na" not in r[name]]
        if not measured:
            out[name] = next((r[name] for r in rounds if name in r), {"na": "not measured"})
            continue
        out[name] = {key: statistics.median(m[key] for m in measured)
                     for key in ("rps", "cpu_ms_per_request", "p50_ms", "p99_ms", "errors")}
    return out
