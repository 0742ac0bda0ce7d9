"""One lock per cache entry, held across threads (``threading.Lock``) and processes (``flock`` on
POSIX, ``msvcrt.locking`` on Windows), so that only one of them refreshes a token at a time."""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

_registry_guard = threading.Lock()
_thread_locks: dict[str, threading.Lock] = {}


def _thread_lock(path: Path) -> threading.Lock:
    with _registry_guard:
        return _thread_locks.setdefault(str(path), threading.Lock())


if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
    import msvcrt

    def _lock_fd(fd: int) -> None:
        while True:
            try:
                msvcrt.locking(fd, msvcrt.LK_LOCK, 1)
                return
            except OSError:
                time.sleep(0.05)

    def _unlock_fd(fd: int) -> None:
        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)

else:
    import fcntl

    def _lock_fd(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_EX)

    def _unlock_fd(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)


@contextmanager
def thread_lock(path: Path) -> Iterator[None]:
    with _thread_lock(path):
        yield


@contextmanager
def file_lock(path: Path) -> Iterator[None]:
    """Exclusive lock on ``path`` (created 0600) for this thread and process. Not re-entrant."""
    with _thread_lock(path):
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            _lock_fd(fd)
            try:
                yield
            finally:
                _unlock_fd(fd)
        finally:
            os.close(fd)
