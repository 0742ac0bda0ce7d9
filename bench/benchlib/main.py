"""Command line of bench/run.py: options, the run over every server, and the results."""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import tempfile
import time
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

from benchlib import cli_startup, env, report, wrk
from benchlib.growth import run_growth
from benchlib.hashcost import password_check_ms
from benchlib.profiling import PROFILED, run_profile
from benchlib.runner import WORKLOADS, run_all
from benchlib.targets.authgate import Authgate
from benchlib.postgres import DEFAULT_URL
from benchlib.targets.authlib_flask import AuthlibFlask
from benchlib.targets.base import Pass
from benchlib.targets.dot import DjangoOAuthToolkit
from benchlib.targets.hello import Hello
from benchlib.targets.oidc_provider import OidcProvider

TARGETS = {"authgate": Authgate, "oidc_provider": OidcProvider, "authlib_flask": AuthlibFlask,
           "dot": DjangoOAuthToolkit, "hello": Hello}
RESULTS = env.BENCH / "results"
PACKAGES = ("authgate", "psycopg", "authlib", "joserfc", "fastapi", "starlette", "uvicorn", "httptools", "uvloop", "sqlalchemy",
            "argon2-cffi", "django", "django-oauth-toolkit", "oauthlib", "flask", "flask-sqlalchemy",
            "werkzeug", "gunicorn")


def parse(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="bench/run.py", description=__doc__)
    p.add_argument("--quick", action="store_true", help="smoke run: 3 s per workload, no warm-up")
    p.add_argument("--growth", action="store_true", help="authgate W1-W3 at 10^3 and 10^6 stored tokens")
    p.add_argument("--profile", action="store_true", help="py-spy on authgate during W1 and W2 (or "
                                                            "--workloads: W1, W1b, W2, W3, W6) -> bench/results/profile-*")
    p.add_argument("--cli", action="store_true", help="only the authgate command's start-up times (no wrk, no peers)")
    p.add_argument("--duration", type=int, help="seconds per workload (default 10, quick 3)")
    p.add_argument("--warmup", type=int, help="seconds of discarded load before each repeatable workload "
                                              "(default 2, quick 0)")
    p.add_argument("--connections", type=int, default=64)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--servers", default="authgate,oidc_provider,authlib_flask,dot,hello",
                   help="comma-separated: " + ",".join(TARGETS))
    p.add_argument("--workloads", default=",".join(WORKLOADS))
    p.add_argument("--db", default="sqlite", help="comma-separated passes: sqlite, postgres (default sqlite)")
    p.add_argument("--workers", default="1", help="comma-separated worker counts, one pass each (default 1); "
                                                  "every database runs with every count")
    p.add_argument("--pg-url", default=DEFAULT_URL, help="--db postgres: the server to create each run's "
                                                         "databases on (they are dropped after)")
    p.add_argument("--large", type=int, default=1_000_000, help="--growth: the large token count")
    p.add_argument("--output", help="JSON path (default bench/results/latest.json, quick.json, growth.json)")
    p.add_argument("--keep", action="store_true", help="keep the working directory (databases, server logs)")
    return p.parse_args(argv)


def machine(config: wrk.Config, tool: str) -> dict:
    wrk_version = subprocess.run([tool, "--version"], capture_output=True, text=True).stdout.split("[")[0].strip()
    commit = subprocess.run(["git", "-C", str(env.REPO), "rev-parse", "--short", "HEAD"],
                            capture_output=True, text=True).stdout.strip()
    model = next((ln.split(":", 1)[1].strip() for ln in Path("/proc/cpuinfo").read_text().splitlines()
                  if ln.startswith("model name")), platform.processor())
    return {
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "commit": commit,
        "cpu": model,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "wrk": wrk_version,
        "duration_s": config.duration,
        "warmup_s": config.warmup,
        "connections": config.connections,
        "wrk_threads": config.threads,
        "pinning": "servers on core 1, wrk on core 0 (taskset)",
        "load_before": [round(x, 2) for x in os.getloadavg()],
        "versions": {name: _version(name) for name in PACKAGES},
    }


def _version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def main(argv: list[str]) -> int:
    args = parse(argv)
    if args.cli:
        print(cli_startup.table(cli_startup.measure()))
        return 0
    tool = env.ensure_wrk()
    if hasattr(os, "sched_setaffinity") and (os.cpu_count() or 1) >= 2:
        os.sched_setaffinity(0, {0})
    duration = args.duration or (3 if args.quick else 10)
    warmup = args.warmup if args.warmup is not None else (0 if args.quick else 2)
    config = wrk.Config(duration=duration, connections=args.connections, threads=args.threads, warmup=warmup)
    meta = machine(config, tool)
    workdir = Path(tempfile.mkdtemp(prefix="authgate-bench-"))
    print(f"load average {meta['load_before']} on {meta['cores']} cores; working in {workdir}", flush=True)
    try:
        if args.profile:
            chosen = args.workloads.split(",") if args.workloads != ",".join(WORKLOADS) else PROFILED
            summaries = run_profile(workdir, config, tool, RESULTS, _log, chosen)
            for name, summary in summaries.items():
                print(f"\n== {name} ({summary['rps']:.0f} req/s under py-spy)\n{summary['report']}")
            return 0
        if args.growth:
            document = {"meta": meta, "growth": run_growth(workdir, config, tool, args.large, _log)}
            output = Path(args.output) if args.output else RESULTS / "growth.json"
            meta["load_after"] = [round(x, 2) for x in os.getloadavg()]
            report.write_json(output, document)
            print(report.growth_table(document["growth"]))
            print(f"\nwrote {output}")
            return 0
        meta["password_check_ms"] = password_check_ms()
        meta["cli_startup"] = cli_startup.measure()
        workloads = tuple(w for w in args.workloads.split(",") if w)
        passes = [Pass(db, int(n), args.pg_url) for db in _names(args.db, ("sqlite", "postgres"))
                  for n in args.workers.split(",") if n]
        done = []
        for run in passes:
            _log(f"==== pass: {run.name}")
            targets = [TARGETS[name](workdir / run.key, run=run) for name in _names(args.servers, TARGETS)
                       if run.db in TARGETS[name].databases]
            results = run_all(targets, config, tool, workloads, _log)
            done.append({"db": run.db, "workers": run.workers, "results": results, "ratios": report.ratios(results)})
        meta["load_after"] = [round(x, 2) for x in os.getloadavg()]
        stem = "quick" if args.quick and not args.output else "latest"
        output = Path(args.output) if args.output else RESULTS / f"{stem}.json"
        report.write_json(output, {"meta": meta, "passes": done})
        report.chart(output.with_suffix(".png"), done[0]["results"], meta)
        for run, figures in zip(passes, done):
            print(f"\n## {run.name}\n")
            print(report.table(figures["results"], figures["ratios"]))
            print()
            print(report.facts(figures["results"], meta))
        print()
        print(cli_startup.table(meta["cli_startup"]))
        print(f"\nload average before {meta['load_before']}, after {meta['load_after']}")
        print(f"wrote {output} and {output.with_suffix('.png')}")
        return 0
    finally:
        if args.keep:
            print(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


def _names(given: str, known) -> list[str]:
    names = [n for n in given.split(",") if n]
    unknown = [n for n in names if n not in known]
    if unknown:
        raise SystemExit(f"unknown: {', '.join(unknown)} (known: {', '.join(known)})")
    return names


def _log(line: str) -> None:
    print(time.strftime("%H:%M:%S ") + line, flush=True)
