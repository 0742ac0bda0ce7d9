"""The run: each server in turn, every workload on it, single-use pools sized from what the server
managed on W2, memory read after the run."""

from __future__ import annotations

import time
from pathlib import Path

from benchlib import wrk
from benchlib.targets.base import NotApplicable, Target

STATIC_WORKLOADS = ("W1", "W1b", "W2", "W3", "W6")
WORKLOADS = ("W1", "W1b", "W2", "W3", "W4", "W5", "W6")
DESCRIPTIONS = {
    "W1": "API GET, JWT bearer",
    "W1b": "API GET, PAT bearer",
    "W2": "client_credentials",
    "W3": "introspection",
    "W4": "refresh_token (rotation)",
    "W5": "authorization_code exchange",
    "W6": "password grant",
}
POOL_HEADROOM = 1.3
POOL_MIN, POOL_MAX = 4, 40000
POOL_SECONDS_MAX = 6
IDLE_WAIT_S = 5


def pool_size(target_rps: float, seconds: int, connections: int) -> int:
    """Enough single-use credentials to last ``seconds`` (at most POOL_SECONDS_MAX: minting codes
    over HTTP takes longer than spending them) at about the rate the server showed on W2, and
    never fewer than 4 per connection: a pool spent at the start would leave connections idle,
    and an idle connection blocks a sync worker (gunicorn) while it waits for a request."""
    seconds = min(seconds, POOL_SECONDS_MAX)
    return int(min(POOL_MAX, max(POOL_MIN * connections, target_rps * seconds * POOL_HEADROOM)))


def measure(target: Target, spec: wrk.Spec, config: wrk.Config, tool: str, workdir: Path, warm: bool) -> dict:
    if warm and config.warmup:
        wrk.run(tool, target.server.base_url, spec, config, workdir, duration=config.warmup)
        settle(target)
    figures = wrk.run(tool, target.server.base_url, spec, config, workdir)
    figures["rss_mb_after"] = target.server.rss_mb()
    if spec.note:
        figures["note"] = spec.note
    if settle(target):
        figures["restarted_after"] = True
    return figures


def settle(target: Target) -> bool:
    """Let the server work off what wrk left queued; restart it if that takes too long (True)."""
    if target.server.wait_idle(IDLE_WAIT_S):
        return False
    target.server.restart()
    return True


def run_target(target: Target, config: wrk.Config, tool: str, workloads: tuple[str, ...], log) -> dict:
    results: dict[str, dict] = {}
    workdir = target.workdir
    log(f"== {target.label}: starting")
    target.start()
    try:
        for name in [w for w in STATIC_WORKLOADS if w in workloads]:
            try:
                spec = target.spec(name)
            except NotApplicable as reason:
                results[name] = {"na": str(reason)}
                log(f"   {name:4} n/a: {reason}")
                continue
            results[name] = measure(target, spec, config, tool, workdir, warm=True)
            log(f"   {name:4} {_line(results[name])}")
        basis = results.get("W2", {}).get("rps") or 200.0
        for name, make in (("W5", target.code_pool_spec), ("W4", target.refresh_pool_spec)):
            if name not in workloads:
                continue
            count = pool_size(basis, config.duration, config.connections)
            try:
                started = time.monotonic()
                spec = make(count)
                minted = time.monotonic() - started
            except NotApplicable as reason:
                results[name] = {"na": str(reason)}
                log(f"   {name:4} n/a: {reason}")
                continue
            results[name] = measure(target, spec, config, tool, workdir, warm=False)
            log(f"   {name:4} {_line(results[name])}  (pool {count}, minted in {minted:.1f}s)")
        measured = [r["rss_mb_after"] for r in results.values() if "rss_mb_after" in r]
        results["_memory"] = {"rss_mb_after_run": target.server.rss_mb(), "rss_mb_max": max(measured, default=None)}
        results["_facts"] = target.facts
    finally:
        target.stop()
    return results


def _line(r: dict) -> str:
    return (f"{r['rps']:>9.1f} req/s  p50 {r['p50_ms']:>7.2f} ms  p99 {r['p99_ms']:>8.2f} ms  "
            f"errors {r['errors']}" + (f"  [{r['error_sample'][:80]}]" if r["errors"] else ""))
