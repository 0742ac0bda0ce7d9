"""The ceiling: a bare ASGI app on the same server stack as authgate (uvicorn, as many worker
processes as the pass has; no database)."""

from __future__ import annotations

from benchlib.env import BENCH, VENV
from benchlib.procs import Server, free_port
from benchlib.targets.base import NotApplicable, Target
from benchlib.wrk import Spec


class Hello(Target):
    name = "hello"
    label = "bare ASGI (uvicorn)"

    def start(self) -> None:
        port = free_port()
        argv = [str(VENV / "bin" / "uvicorn"), "--app-dir", str(BENCH / "peers" / "hello"), "app:app",
                "--host", "127.0.0.1", "--port", str(port), "--no-access-log", "--log-level", "warning",
                "--workers", str(self.run.workers)]
        self.server = Server(self.name, argv, {"PATH": "/usr/bin:/bin"}, self.workdir, port, "/")

    def spec(self, workload: str) -> Spec:
        if workload != "W1":
            raise NotApplicable("the ceiling is measured once, on a GET")
        return Spec("GET", "/api/1.0/users/me", {"Authorization": "Bearer x"})
