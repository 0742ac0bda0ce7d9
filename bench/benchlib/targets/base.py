"""What every server under test offers the runner."""

from __future__ import annotations

from pathlib import Path

from benchlib.procs import Server
from benchlib.wrk import Spec


class NotApplicable(Exception):
    """This server has no such workload (the message says why)."""


class Target:
    name = ""
    label = ""
    server: Server

    def __init__(self, workdir: Path, subdir: str | None = None):
        self.workdir = workdir / (subdir or self.name)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.facts: dict = {}

    def start(self) -> None:
        raise NotImplementedError

    def spec(self, workload: str) -> Spec:
        """The request for W1, W1b, W2, W3 or W6; raises NotApplicable."""
        raise NotApplicable("not offered")

    def code_pool_spec(self, count: int) -> Spec:
        raise NotApplicable("not offered")

    def refresh_pool_spec(self, count: int) -> Spec:
        raise NotApplicable("not offered")

    def stop(self) -> None:
        self.server.stop()
