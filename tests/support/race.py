"""Requests sent at the same moment: one thread each, released together by a ``threading.Barrier``."""

from __future__ import annotations

import threading


def at_once(calls: list) -> list:
    """Run every callable of ``calls`` in a thread of its own, all started at one instant; their results in
    the same order (an exception raised by one is raised here once all have finished)."""
    start = threading.Barrier(len(calls))
    results: list = [None] * len(calls)
    errors: list = []

    def run(i: int) -> None:
        start.wait()
        try:
            results[i] = calls[i]()
        except BaseException as error:  # reported once every thread is done
            errors.append(error)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return results
