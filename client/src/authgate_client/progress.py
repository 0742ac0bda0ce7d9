"""A progress indicator on stderr while waiting for the browser or a device approval: a spinner with
the elapsed time on a terminal, one plain line otherwise (logs stay readable)."""

from __future__ import annotations

import sys
import threading
import time
from types import TracebackType
from typing import TextIO

FRAMES = "|/-\\"


class Progress:
    def __init__(self, message: str, stream: TextIO | None = None, enabled: bool = True):
        self.message = message
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = enabled
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._interactive = enabled and isatty(self.stream)

    def __enter__(self) -> "Progress":
        if not self.enabled:
            return self
        if self._interactive:
            self._thread = threading.Thread(target=self._spin, name="authgate-progress", daemon=True)
            self._thread.start()
        else:
            self._write(f"{self.message}...\n")
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._write("\r\033[K")

    def _spin(self) -> None:
        start = time.monotonic()
        frame = 0
        while not self._stop.wait(0.1):
            elapsed = int(time.monotonic() - start)
            self._write(f"\r{FRAMES[frame % len(FRAMES)]} {self.message} ({elapsed}s, Ctrl-C to stop)")
            frame += 1

    def _write(self, text: str) -> None:
        try:
            self.stream.write(text)
            self.stream.flush()
        except (OSError, ValueError):
            pass


def isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
