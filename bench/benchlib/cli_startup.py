"""How long the ``authgate`` command takes, start to exit: ``--help`` and simple commands on a migrated
SQLite database, the median of several runs (wall clock), with authgate's bytecode compiled as an
installed copy has it. Issue 14 asks for ``--help`` under 0.3 s and a simple command under 0.6 s.

    cd bench && python3 -m benchlib.cli_startup [--python PATH] [--runs N]
    python3 bench/run.py --cli        # the same, inside the benchmark's virtualenv
"""

from __future__ import annotations

import argparse
import compileall
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HELP = ("--help",)
SIMPLE = (("status",), ("users", "unlock", "cli-bench"), ("clients", "list"), ("keys", "list"), ("tokens", "list", "--user", "cli-bench"))
BUDGET_S = {HELP: 0.3}
SIMPLE_BUDGET_S = 0.6


def _environment(home: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AUTHGATE_")}
    return env | {"AUTHGATE_HOME": str(home), "AUTHGATE_DATABASE_URL": f"sqlite:///{home}/authgate.db",
                  "AUTHGATE_ARGON2_TIME_COST": "1", "AUTHGATE_ARGON2_MEMORY_KIB": "8192"}


class Failed(Exception):
    """The command exited non-zero (an authgate that lacks it)."""


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _authgate(python: str, env: dict, *args: str, stdin: str | None = None) -> tuple[float, float]:
    """Wall-clock and CPU seconds of one run (CPU time varies less on a shared machine)."""
    cpu, started = _cpu(), time.perf_counter()
    proc = subprocess.run([python, "-m", "authgate", *args], env=env, input=stdin, capture_output=True, text=True,
                          cwd=env["AUTHGATE_HOME"])
    elapsed = time.perf_counter() - started
    if proc.returncode:
        raise Failed(f"authgate {' '.join(args)} failed: {proc.stderr.strip()}")
    return elapsed, _cpu() - cpu


def _compile(python: str, env: dict) -> None:
    """Write the bytecode of the authgate being measured, as pip does on install."""
    where = subprocess.run([python, "-c", "import authgate, os; print(os.path.dirname(authgate.__file__))"],
                           env=env, capture_output=True, text=True, check=True).stdout.strip()
    compileall.compile_dir(where, quiet=1)


def measure(python: str = sys.executable, runs: int = 7) -> dict[str, dict | None]:
    """Median wall-clock and CPU seconds per command line (None for a command that fails)."""
    with tempfile.TemporaryDirectory(prefix="authgate-cli-") as home:
        env = _environment(Path(home))  # the database URL too, for an authgate that knows no AUTHGATE_HOME
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        _compile(python, env)
        _authgate(python, env, "db", "upgrade")
        _authgate(python, env, "users", "create", "cli-bench", "--email", "cli-bench@example.org", "--password-stdin",
                  stdin="cli-bench-password\n")
        times = {}
        for args in (HELP, *SIMPLE):
            try:
                _authgate(python, env, *args)
            except Failed:
                times[" ".join(args)] = None
                continue
            samples = [_authgate(python, env, *args) for _ in range(runs)]
            times[" ".join(args)] = {"wall_s": round(statistics.median(wall for wall, _ in samples), 3),
                                     "cpu_s": round(statistics.median(cpu for _, cpu in samples), 3)}
        return times


def table(times: dict[str, dict | None]) -> str:
    lines = ["authgate command start-up (median of runs)", f"{'command':<38} {'wall s':>7} {'cpu s':>7}  budget"]
    for command, seconds in times.items():
        name = f"{'authgate ' + command:<38}"
        if seconds is None:
            lines.append(f"{name} {'(no such command)':>15}")
            continue
        budget = BUDGET_S.get(tuple(command.split()), SIMPLE_BUDGET_S)
        lines.append(f"{name} {seconds['wall_s']:>7.3f} {seconds['cpu_s']:>7.3f}  {budget:.1f}"
                     + ("" if seconds["wall_s"] <= budget else "  over"))
    lines.append(f"load average {', '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} cores")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python3 -m benchlib.cli_startup", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--python", default=sys.executable, help="the interpreter authgate is installed in")
    parser.add_argument("--runs", type=int, default=7, help="runs per command (the median is shown)")
    args = parser.parse_args(argv)
    print(table(measure(args.python, args.runs)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
