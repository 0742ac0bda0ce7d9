"""A small HTTP server the tests run on loopback to publish what authgate fetches (a client's JWK Set, a
Client ID Metadata Document), counting the requests for each path. Only reachable by authgate under the
test-only ``AUTHGATE_FETCH_ALLOW_PRIVATE=1``. Given a TLS context (``support/tls.py``) it serves https, for
clients such as the MCP SDK's that accept only an https ``client_id`` URL."""

from __future__ import annotations

import json
import ssl
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class DocumentServer:
    def __init__(self, tls: ssl.SSLContext | None = None):
        self.scheme = "https" if tls else "http"
        self.routes: dict[str, tuple[int, dict, bytes]] = {}
        self.hits: Counter = Counter()
        self.hosts: list[str] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                owner.hits[self.path] += 1
                owner.hosts.append(self.headers.get("Host", ""))
                status, headers, body = owner.routes.get(self.path, (404, {}, b"{}"))
                self.send_response(status)
                for name, value in {"Content-Type": "application/json", **headers}.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        if tls is not None:
            self.httpd.socket = tls.wrap_socket(self.httpd.socket, server_side=True)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        return f"{self.scheme}://127.0.0.1:{self.httpd.server_port}{path}"

    def publish(self, path: str, document, status: int = 200, headers: dict | None = None) -> str:
        body = document if isinstance(document, bytes) else json.dumps(document).encode()
        self.routes[path] = (status, headers or {}, body)
        return self.url(path)

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
