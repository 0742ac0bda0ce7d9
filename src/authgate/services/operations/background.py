"""The serving process's background threads: periodic tasks on one thread, long-running loops on their own.

Thread names start with ``authgate-background`` (the SQL statement budget test leaves their queries
out: they are per worker, not per request). A failing task is logged and tried again at its next turn.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

log = logging.getLogger("authgate.background")

THREAD_NAME = "authgate-background"


class _Task:
    def __init__(self, seconds: float, first_after: float, run: Callable[[], None], failure: str):
        self.seconds = seconds
        self.due = time.monotonic() + first_after
        self.run = run
        self.failure = failure


class Background:
    def __init__(self, tick_seconds: float):
        """``tick_seconds``: how often the periodic thread looks for due tasks."""
        self.tick_seconds = tick_seconds
        self._tasks: list[_Task] = []
        self._loops: list[Callable[[threading.Event], None]] = []
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def every(self, seconds: float, task: Callable[[], None], first_after: float | None = None,
              failure: str = "periodic task failed") -> None:
        """Run ``task()`` every ``seconds`` (after ``start``), the first time after ``first_after`` seconds
        (default: ``seconds``); ``failure`` is logged, with the error's type, when it raises."""
        self._tasks.append(_Task(seconds, seconds if first_after is None else first_after, task, failure))

    def alongside(self, loop: Callable[[threading.Event], None]) -> None:
        """Run ``loop(stop)`` on a thread of its own; it returns once ``stop`` is set."""
        self._loops.append(loop)

    def _run(self, _stop: threading.Event) -> None:
        while not self._stop.wait(self.tick_seconds):
            now = time.monotonic()
            for task in self._tasks:
                if now >= task.due:
                    task.due = now + task.seconds
                    try:
                        task.run()
                    except Exception as error:
                        log.warning("%s (%s)", task.failure, type(error).__name__)

    def start(self) -> None:
        if self._threads:
            return
        for n, target in enumerate([self._run, *self._loops]):
            thread = threading.Thread(target=target, args=(self._stop,), name=f"{THREAD_NAME}-{n}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=5)
        self._threads = []
