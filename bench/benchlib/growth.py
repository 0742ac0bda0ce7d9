"""Flat cost as data grows: authgate's W1, W1b, W2 and W3 with 10^3 stored tokens of each kind,
then again after bench/seed.py has brought the same database to the large count."""

from __future__ import annotations

import os
import time
from pathlib import Path

from benchlib import wrk
from benchlib.runner import measure
from benchlib.seeding import seed
from benchlib.targets.authgate import Authgate
from benchlib.targets.base import NotApplicable

SMALL = 1_000
GROWTH_WORKLOADS = ("W1", "W1b", "W2", "W3")


def run_growth(workdir: Path, config: wrk.Config, tool: str, large: int, log) -> dict:
    target = Authgate(workdir)
    target.prepare()
    runs: dict[str, dict] = {}
    seeded = 0
    for size in (SMALL, large):
        started = time.monotonic()
        seed(size - seeded, target.env["AUTHGATE_DATABASE_URL"])
        log(f"== authgate with {size:,} stored tokens of each kind (seeded {size - seeded:,} in "
            f"{time.monotonic() - started:.0f}s)")
        seeded = size
        target.launch()
        results: dict[str, dict] = {"_seed_seconds": round(time.monotonic() - started, 1)}
        try:
            for name in GROWTH_WORKLOADS:
                try:
                    spec = target.spec(name)
                except NotApplicable as reason:
                    results[name] = {"na": str(reason)}
                    log(f"   {name:4} n/a: {reason}")
                    continue
                results[name] = measure(target, spec, config, tool, target.workdir, warm=True)
                r = results[name]
                log(f"   {name:4} {r['rps']:>9.1f} req/s  p50 {r['p50_ms']:.2f} ms  p99 {r['p99_ms']:.2f} ms  "
                    f"errors {r['errors']}")
        finally:
            target.stop()
        runs[str(size)] = results
    os.environ.pop("AUTHGATE_DATABASE_URL", None)
    return {"sizes": [SMALL, large], "runs": runs}
