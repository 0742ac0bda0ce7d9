"""Server processes pinned to the server core, their readiness, their memory and their CPU time."""

from __future__ import annotations

import os
import socket
import subprocess
import time
from pathlib import Path

import requests

SERVER_CORE = "1"
LOAD_CORE = "0"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pinned(core: str, argv: list[str]) -> list[str]:
    if (os.cpu_count() or 1) < 2:
        return argv
    return ["taskset", "-c", core, *argv]


class Server:
    """One server under test: ``argv`` run on the server core, ready when ``ready_path`` answers.
    ``idle_path`` must queue behind the server's request work (authgate: a thread-pool route)."""

    def __init__(self, name: str, argv: list[str], env: dict, cwd: Path, port: int, ready_path: str,
                 idle_path: str | None = None):
        self.name, self.port, self.cwd = name, port, cwd
        self.argv, self.env, self.ready_path = argv, env, ready_path
        self.idle_path = idle_path or ready_path
        self.base_url = f"http://127.0.0.1:{port}"
        self._log = open(cwd / f"{name}.log", "ab")
        self._spawn()

    def _spawn(self) -> None:
        self.proc = subprocess.Popen(
            pinned(SERVER_CORE, self.argv), env=self.env, cwd=self.cwd, stdout=self._log,
            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        )
        self._wait(self.ready_path)

    def wait_idle(self, timeout: float) -> bool:
        """True once a request answers within a second: the backlog a slow server is left with
        (requests wrk sent and gave up on) has been worked off."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                requests.get(self.base_url + self.idle_path, timeout=1)
                return True
            except requests.RequestException:
                pass
        return False

    def restart(self) -> None:
        """Stop and start again (dropping a backlog); the database stays."""
        self._terminate()
        self._spawn()

    def _wait(self, path: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited ({self.proc.returncode}); see {self._log.name}")
            try:
                requests.get(self.base_url + path, timeout=2)
                return
            except requests.RequestException:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"{self.name} did not answer within {timeout}s; see {self._log.name}")

    def worker_pids(self) -> list[int]:
        """The processes that serve requests: gunicorn's worker(s), else the process itself."""
        children = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children")
        try:
            kids = [int(p) for p in children.read_text().split()]
        except OSError:
            kids = []
        return kids or [self.proc.pid]

    def cpu_seconds(self) -> float:
        """User + system CPU time of the server's process and all its descendants so far, from
        /proc/<pid>/stat: utime and stime of every live process, plus cutime and cstime (what its
        children that have exited and were waited for used) of each."""
        ticks = 0
        pending = [self.proc.pid]
        while pending:
            pid = pending.pop()
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            ticks += sum(int(x) for x in fields[11:15])
            pending.extend(_children(pid))
        return ticks / CLOCK_TICKS

    def rss_mb(self) -> float:
        """Resident memory of the largest serving process, in MB."""
        best = 0
        for pid in self.worker_pids():
            try:
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        best = max(best, int(line.split()[1]))
            except OSError:
                pass
        return round(best / 1024, 1)

    def stop(self) -> None:
        self._terminate()
        self._log.close()

    def _terminate(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=15)


def _children(pid: int) -> list[int]:
    kids: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            kids.extend(int(p) for p in (task / "children").read_text().split())
        except OSError:
            pass
    return kids
