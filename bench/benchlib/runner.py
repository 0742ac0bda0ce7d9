"""The run: all servers up at once, each workload on each server in turn, single-use pools sized
from what that server managed on W2, the server's CPU time read before and after every workload
(CPU per request barely moves with the machine's load, requests per second do) and its memory after."""

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
    cpu_before = target.server.cpu_seconds()
    figures = wrk.run(tool, target.server.base_url, spec, config, workdir)
    cpu = target.server.cpu_seconds() - cpu_before
    figures["server_cpu_s"] = round(cpu, 2)
    figures["cpu_ms_per_request"] = round(cpu * 1000 / figures["requests"], 3) if figures["requests"] else None
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


ORDER = ("W1", "W1b", "W2", "W3", "W6", "W5", "W4")


def run_all(targets: list[Target], config: wrk.Config, tool: str, workloads: tuple[str, ...], log) -> dict:
    """Every server is started first; then each workload runs on each server in turn, so that the
    figures compared in a ratio are taken within a minute of each other (the machine is shared)."""
    results: dict[str, dict] = {t.name: {} for t in targets}
    try:
        for target in targets:
            log(f"== starting {target.label}")
            target.start()
        for name in [w for w in ORDER if w in workloads]:
            log(f"== {name} {DESCRIPTIONS[name]}")
            for target in targets:
                results[target.name][name] = _one(target, name, results[target.name], config, tool, log)
        for target in targets:
            measured = [r["rss_mb_after"] for r in results[target.name].values() if "rss_mb_after" in r]
            results[target.name]["_memory"] = {"rss_mb_after_run": target.server.rss_mb(),
                                               "rss_mb_max": max(measured, default=None)}
            results[target.name]["_facts"] = target.facts
    finally:
        for target in targets:
            target.stop()
    return results


def _one(target: Target, name: str, so_far: dict, config: wrk.Config, tool: str, log) -> dict:
    label = f"   {target.label:22} {name:4}"
    extra = ""
    try:
        if name in STATIC_WORKLOADS:
            spec = target.spec(name)
        else:
            count = pool_size(so_far.get("W2", {}).get("rps") or 200.0, config.duration, config.connections)
            make = target.code_pool_spec if name == "W5" else target.refresh_pool_spec
            started = time.monotonic()
            spec = make(count)
            extra = f"  (pool {count}, minted in {time.monotonic() - started:.1f}s)"
    except NotApplicable as reason:
        return {"na": str(reason)}
    figures = measure(target, spec, config, tool, target.workdir, warm=spec.pool is None)
    log(f"{label} {_line(figures)}{extra}")
    return figures


def _line(r: dict) -> str:
    cpu = f"{r['cpu_ms_per_request']:>6.2f}" if r.get("cpu_ms_per_request") is not None else "     -"
    return (f"{r['rps']:>9.1f} req/s  cpu {cpu} ms/req  p50 {r['p50_ms']:>7.2f} ms  p99 {r['p99_ms']:>8.2f} ms  "
            f"errors {r['errors']}" + (f"  [{r['error_sample'][:80]}]" if r["errors"] else ""))
