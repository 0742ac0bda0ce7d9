"""A dictionary that forgets its oldest entries beyond a size: the storage of every cache here."""

from __future__ import annotations

import threading
from collections import OrderedDict

CACHE_SIZE = 50_000


class Bounded(OrderedDict):
    def __init__(self, size: int = CACHE_SIZE):
        super().__init__()
        self.size = size
        self.lock = threading.Lock()

    def put(self, key, value) -> None:
        with self.lock:
            self[key] = value
            if len(self) > self.size:
                self.popitem(last=False)

    def drop(self, key) -> None:
        with self.lock:
            self.pop(key, None)
