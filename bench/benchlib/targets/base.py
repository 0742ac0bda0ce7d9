"""What every server under test offers the runner, and the pass it runs in (database, workers)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from benchlib.postgres import DEFAULT_URL, Database
from benchlib.procs import Server
from benchlib.wrk import Spec


class NotApplicable(Exception):
    """This server has no such workload (the message says why)."""


@dataclass(frozen=True)
class Pass:
    """One pass over every server: its database ("sqlite" or "postgres") and worker processes."""

    db: str = "sqlite"
    workers: int = 1
    pg_url: str = DEFAULT_URL

    @property
    def name(self) -> str:
        return f"{self.db}, {self.workers} worker{'s' if self.workers > 1 else ''}"

    @property
    def key(self) -> str:
        return f"{self.db}-w{self.workers}"


class Target:
    name = ""
    label = ""
    server: Server
    databases = ("sqlite", "postgres")

    def __init__(self, workdir: Path, subdir: str | None = None, run: Pass = Pass()):
        self.run = run
        self.workdir = workdir / (subdir or self.name)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.facts: dict = {}
        self.postgres: Database | None = None

    def postgres_database(self) -> Database:
        """A fresh PostgreSQL database for this server in this pass, dropped by stop()."""
        self.postgres = Database(self.run.pg_url, self.name)
        return self.postgres

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
        try:
            if hasattr(self, "server"):
                self.server.stop()
        finally:
            if self.postgres is not None:
                self.postgres.drop()
                self.postgres = None
