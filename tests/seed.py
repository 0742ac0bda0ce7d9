"""Seeding users, clients and personal access tokens without a subprocess.

The suite makes hundreds of them, and each `authgate ...` subprocess costs an interpreter start and
a migration check (1-2 s). `InProcessCommands` parses the same command line with the CLI's own
parser and runs the same command function against the server's database, in the test process, with
the server's `AUTHGATE_*` settings: what is written is what the CLI writes. The CLI's own contract
(exit codes, messages, `--json`) keeps its tests in `test_cli.py`, through real subprocesses.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import sys

from authgate.cli.main import build_parser
from authgate.services.errors import ServiceError
from authgate.services.runtime import Runtime
from authgate.settings import load


@contextlib.contextmanager
def _environment(env: dict):
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


class InProcessCommands:
    """`run_json("users", "create", ...)` -> what `authgate users create ... --json` prints, parsed."""

    def __init__(self, env: dict):
        self._env = env
        self._runtime: Runtime | None = None

    def _open(self) -> Runtime:
        if self._runtime is None:
            with _environment(self._env):
                self._runtime = Runtime.open(load())
        return self._runtime

    def run_json(self, *argv: str, input: str | None = None):
        args = build_parser().parse_args([*argv, "--json"])
        out = io.StringIO()
        stdin, sys.stdin = sys.stdin, io.StringIO(input or "")
        runtime = self._open()
        try:
            with contextlib.redirect_stdout(out):
                args.run(runtime, args)
        except ServiceError as error:
            raise AssertionError(f"authgate {' '.join(argv)} failed: {error}") from None
        finally:
            sys.stdin = stdin
            runtime.db.dispose()  # keep no connection open between commands: the servers need them
        return json.loads(out.getvalue())

    def close(self) -> None:
        if self._runtime is not None:
            self._runtime.db.dispose()
            self._runtime = None
