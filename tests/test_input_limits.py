"""Input limits (issue 7 §4): a body over the ceiling is refused with 413 — declared or streamed —
before it is read into memory, on every route; the server keeps serving afterwards."""

from __future__ import annotations

import socket

import requests

from support import HTTP_TIMEOUT, api_for

CEILING = 1024 * 1024


def test_declared_oversized_json_body_is_413(server):
    api = api_for(server, "admin")
    r = requests.post(server.url("/api/1.0/users"), data=b"{" + b" " * (CEILING + 10) + b"}",
                      headers={"Authorization": f"Bearer {api.token}", "Content-Type": "application/json"},
                      timeout=HTTP_TIMEOUT)
    assert r.status_code == 413 and "larger than" in r.json()["message"]


def test_streamed_oversized_body_is_413(server):
    def chunks():
        for _ in range(20):
            yield b"x" * (128 * 1024)

    r = requests.post(server.url("/oauth/token"), data=chunks(), timeout=HTTP_TIMEOUT)  # chunked: no length
    assert r.status_code in (400, 413)
    assert r.json().get("error") == "invalid_request" or "larger than" in r.json().get("message", "")
    r = requests.post(server.url("/api/1.0/groups"), data=chunks(), timeout=HTTP_TIMEOUT,
                      headers={"Authorization": f"Bearer {api_for(server, 'admin').token}"})
    assert r.status_code == 413


def test_server_keeps_serving(server):
    assert requests.get(server.url("/healthz"), timeout=HTTP_TIMEOUT).status_code == 200


OAUTH_POSTS = ("/oauth/token", "/oauth/par", "/oauth/revoke", "/oauth/introspect", "/oauth/device", "/oauth/register")


def _streamed(size: int):
    sent = 0
    while sent < size:
        yield b"x" * (128 * 1024)
        sent += 128 * 1024


def _assert_oauth_too_large(r: requests.Response, where: str) -> None:
    """RFC 6749 §5.2's error shape, never cached, for a body the server will not read."""
    assert r.status_code == 413, f"{where}: {r.status_code} {r.text[:300]}"
    body = r.json()
    assert body["error"] == "invalid_request" and "larger than" in body["error_description"], (where, body)
    assert "no-store" in r.headers.get("Cache-Control", ""), where


def test_oversized_body_on_every_oauth_endpoint_is_an_oauth_error_rfc6749_5_2(server):
    """RFC 9126 §2.3 (PAR), RFC 6749 §5.2 (token), RFC 7009 §2.2.1, RFC 7662 §2.3, RFC 8628 §3.2, RFC 7591 §3.2.2:
    the error body is JSON with ``error`` and ``error_description``, declared or streamed."""
    for path in OAUTH_POSTS:
        declared = requests.post(server.url(path), data=b"a=" + b"x" * (CEILING + 10), timeout=HTTP_TIMEOUT,
                                 headers={"Content-Type": "application/x-www-form-urlencoded"})
        _assert_oauth_too_large(declared, f"{path} (Content-Length)")
        streamed = requests.post(server.url(path), data=_streamed(CEILING + 256 * 1024), timeout=HTTP_TIMEOUT,
                                 headers={"Content-Type": "application/x-www-form-urlencoded"})
        _assert_oauth_too_large(streamed, f"{path} (chunked)")


def test_oversized_client_update_is_an_oauth_error_rfc7592_2_2(server):
    r = requests.put(server.url("/oauth/register/some-client"), data=b"{" + b" " * (CEILING + 10) + b"}",
                     headers={"Content-Type": "application/json", "Authorization": "Bearer x"}, timeout=HTTP_TIMEOUT)
    _assert_oauth_too_large(r, "PUT /oauth/register/<id>")


def test_oversized_api_body_is_the_api_envelope(server):
    api = api_for(server, "admin")
    r = requests.put(server.url("/api/1.0/users/1"), data=_streamed(CEILING + 256 * 1024), timeout=HTTP_TIMEOUT,
                     headers={"Authorization": f"Bearer {api.token}", "Content-Type": "application/json"})
    assert r.status_code == 413
    body = r.json()
    assert "larger than" in body["message"] and body["errors"]["body"], body


def test_oversized_form_on_a_page_is_the_error_page(server):
    r = requests.post(server.url("/login"), data=b"username=" + b"x" * (CEILING + 10), timeout=HTTP_TIMEOUT,
                      headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert r.status_code == 413
    assert r.headers["Content-Type"].startswith("text/html")
    assert "<html" in r.text.lower() and "larger than" in r.text


def _cut_short(server, path: str) -> None:
    """A request whose body stops half way: the client closes its side after 3 of the 100 bytes it announced."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=HTTP_TIMEOUT) as peer:
        peer.sendall(f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100\r\n"
                     "Content-Type: application/x-www-form-urlencoded\r\n\r\na=b".encode())
        peer.shutdown(socket.SHUT_WR)
        while peer.recv(65536):
            pass


def test_body_cut_short_is_the_clients_fault_not_a_server_error(server_factory):
    """An unreadable body (the connection ends before the body is whole) on the OAuth endpoints, the API and a
    page is answered as bad input: no "Exception in ASGI application", no stack trace in the log."""
    srv = server_factory()
    for path in (*OAUTH_POSTS, "/api/1.0/groups", "/login"):
        _cut_short(srv, path)
    assert requests.get(srv.url("/healthz"), timeout=HTTP_TIMEOUT).status_code == 200
    log = srv.stderr_text()
    assert "ClientDisconnect" not in log and "Traceback" not in log, log[-2000:]
