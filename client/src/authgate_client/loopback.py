"""The loopback redirect listener of RFC 8252 §7.3: an HTTP server on 127.0.0.1 that waits for the
one authorization response whose ``state`` is ours, answers the browser with a short page, and hands
the response's parameters over."""

from __future__ import annotations

import html
import queue
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.parse import parse_qs, urlsplit

PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>{title}</title></head>
<body style="font-family: sans-serif; margin: 3em"><h1>{title}</h1><p>{text}</p></body></html>"""


class LoopbackListener:
    def __init__(self, state: str, port: int = 0, path: str = "/callback", host: str = "127.0.0.1"):
        self.state = state
        self.path = path
        self.results: "queue.Queue[tuple[str, dict[str, str]]]" = queue.Queue()
        self._server = HTTPServer((host, port), self._handler_class())
        self.port = self._server.server_address[1]
        self.redirect_uri = f"http://{host}:{self.port}{path}"
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.2},
                                        name="authgate-loopback", daemon=True)

    def start(self) -> "LoopbackListener":
        self._thread.start()
        return self

    def close(self) -> None:
        if self._thread.is_alive():
            self._server.shutdown()
        self._server.server_close()

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        listener = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - the http.server API
                parts = urlsplit(self.path)
                if parts.path != listener.path:
                    self._page(404, "Not found", "This address only receives an authorization response.")
                    return
                raw = parse_qs(parts.query, keep_blank_values=True)
                if any(len(values) > 1 for values in raw.values()):
                    self._page(400, "Invalid response", "A parameter was repeated.")
                    return
                params = {k: v[0] for k, v in raw.items()}
                if params.get("state") != listener.state:
                    self._page(400, "Unexpected response",
                               "This response does not belong to the sign-in in progress (state mismatch).")
                    return
                if "error" in params:
                    self._page(200, "Sign-in not completed",
                               f"{params.get('error')}: {params.get('error_description') or ''} You can close this window.")
                else:
                    self._page(200, "Signed in", "You can close this window and go back to the application.")
                listener.results.put(("redirect", params))

            def _page(self, status: int, title: str, text: str) -> None:
                body = PAGE.format(title=html.escape(title), text=html.escape(text)).encode("utf-8")
                self.send_response(status)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Cache-Control", "no-store")
                self.send_header("Referrer-Policy", "no-referrer")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        return Handler
