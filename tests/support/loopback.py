"""An ASGI app served by uvicorn on a thread, on a loopback port of its own (or the one a URL names): the
user's own API or MCP server that the resource-server tests protect with authgate's tokens."""

from __future__ import annotations

import threading
import time
from urllib.parse import urlsplit

import httpx
import uvicorn

from support.server import free_port


class Loopback:
    def __init__(self, app, url: str | None = None):
        self.port = urlsplit(url).port if url else free_port()
        self.url = url or f"http://127.0.0.1:{self.port}"
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning",
                                                    access_log=False))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> "Loopback":
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            assert time.monotonic() < deadline, "the app on loopback did not start"
            time.sleep(0.02)
        return self

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)

    def get(self, path: str, token: str | None = None) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.get(self.url + path, headers=headers, timeout=10)
