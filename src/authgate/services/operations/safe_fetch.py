"""Fetching a URL a client named (a ``jwks_uri``, a Client ID Metadata Document), or an upstream identity provider's
(discovery, keys, token and UserInfo requests: ``services/federation/``), without letting that client
point authgate at anything it should not reach (server-side request forgery).

Only ``https``; no redirect is followed; the host is resolved once and every address it resolves to must be
public (not private, loopback, link-local, multicast, reserved), and the connection goes to that checked
address (the URL's host is kept for TLS: SNI and certificate checks), so a second DNS answer cannot swap in
another address (DNS rebinding). The body is capped (``MAX_BYTES``) and so is the time.

Answers are cached as HTTP says (``Cache-Control: max-age``, bounded by ``MIN_SECONDS`` and
``MAX_SECONDS``; ``no-store``/``no-cache`` give the minimum), and failures are remembered for
``FAILURE_SECONDS``: one URL is fetched at most once per lifetime, per process.

``allow_private`` (``AUTHGATE_FETCH_ALLOW_PRIVATE=1``) lifts the address check and allows plain ``http`` to a
loopback host: it exists for tests and closed networks, and is unsafe on a server that faces the internet.
``ca_file`` (``AUTHGATE_FETCH_CA_FILE``) names a PEM bundle of certificate authorities trusted besides the
default ones (httpx's, from certifi): a private CA of a closed network, or a test's own.
"""

from __future__ import annotations

import ipaddress
import json
import re
import socket
import ssl
import threading
import time
from urllib.parse import urlsplit, urlunsplit

import httpx

from authgate.services.caching.bounded import Bounded

MAX_BYTES = 64 * 1024
CONNECT_SECONDS = 3.0
TOTAL_SECONDS = 5.0
MIN_SECONDS = 60
DEFAULT_SECONDS = 300
MAX_SECONDS = 24 * 3600
FAILURE_SECONDS = 30
CACHE_SIZE = 2000


class FetchRefused(Exception):
    """The URL was not fetched, or its answer not taken; the message says why, for the client to read."""


_EMBEDDING = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("::/96"))
"""IPv6 ranges whose last 32 bits are an IPv4 address a gateway may reach: NAT64's well-known prefix (RFC 6052)
and the deprecated IPv4-compatible addresses (RFC 4291 section 2.5.5.1)."""
_SITE_LOCAL = ipaddress.ip_network("fec0::/10")
"""Deprecated (RFC 3879) but still routed inside some networks; Python counts it as global."""


def _public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        if ip in _SITE_LOCAL:
            return False
        embedded = ip.ipv4_mapped or ip.sixtofour \
            or next((ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF) for net in _EMBEDDING if ip in net), None)
        if embedded is not None and not _public(str(embedded)):
            return False
    return ip.is_global and not ip.is_multicast


def _loopback_host(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def cache_seconds(cache_control: str | None) -> int:
    """How long to keep an answer (RFC 9111 §5.2.2.1 ``max-age``), within ``MIN_SECONDS``..``MAX_SECONDS``."""
    directives = (cache_control or "").lower()
    if "no-store" in directives or "no-cache" in directives:
        return MIN_SECONDS
    found = re.search(r"(?:^|[,\s])max-age\s*=\s*\"?(\d+)", directives)
    seconds = int(found.group(1)) if found else DEFAULT_SECONDS
    return max(MIN_SECONDS, min(MAX_SECONDS, seconds))


class SafeFetcher:
    def __init__(self, allow_private: bool = False, resolve=socket.getaddrinfo, max_bytes: int = MAX_BYTES,
                 ca_file: str | None = None):
        self.allow_private = allow_private
        self.ca_file = ca_file
        self._tls: ssl.SSLContext | None = None
        self.resolve = resolve
        self.max_bytes = max_bytes
        self.cache: Bounded = Bounded(CACHE_SIZE)
        self._locks: dict[str, threading.Lock] = {}
        self._locks_lock = threading.Lock()

    def json(self, url: str, newer_than: float | None = None) -> dict:
        """The JSON object at ``url``, from the cache when it is fresh (and, with ``newer_than``, fetched less
        than that many seconds ago: a key set asked again for a key it lacks); raises ``FetchRefused``."""
        def stale(known) -> bool:
            now = time.monotonic()
            return known is None or known[0] <= now or (newer_than is not None and known[2] < now - newer_than)

        known = self.cache.get(url)
        if stale(known):
            with self._lock_for(url):
                known = self.cache.get(url)
                if stale(known):
                    known = self._fetch_remembered(url)
        if isinstance(known[1], FetchRefused):
            raise known[1]
        return known[1]

    def _lock_for(self, url: str) -> threading.Lock:
        with self._locks_lock:
            if len(self._locks) > CACHE_SIZE:
                self._locks.clear()
            return self._locks.setdefault(url, threading.Lock())

    def _fetch_remembered(self, url: str) -> tuple:
        now = time.monotonic()
        try:
            document, seconds = self._fetch(url)
            known = (now + seconds, document, now)
        except FetchRefused as refused:
            known = (now + FAILURE_SECONDS, refused, now)
        self.cache.put(url, known)
        return known

    def _target(self, url: str) -> tuple[str, str, str]:
        """``(url to connect to, Host header, TLS server name)``: the checked address put in the URL."""
        try:
            parts = urlsplit(url)
            host, port = parts.hostname, parts.port
        except ValueError:
            raise FetchRefused(f"{url!r} is not a valid URL") from None
        if not host or parts.username or parts.password:
            raise FetchRefused(f"{url!r} must name a host and no credentials")
        plain_loopback = parts.scheme == "http" and self.allow_private and _loopback_host(host)
        if parts.scheme != "https" and not plain_loopback:
            raise FetchRefused(f"{url!r} must be an https URL")
        port = port or (443 if parts.scheme == "https" else 80)
        try:
            answers = self.resolve(host, port, type=socket.SOCK_STREAM)
        except (socket.gaierror, UnicodeError, OSError):
            raise FetchRefused(f"the host of {url!r} does not resolve") from None
        addresses = list(dict.fromkeys(answer[4][0] for answer in answers))
        if not addresses:
            raise FetchRefused(f"the host of {url!r} does not resolve")
        if not self.allow_private and not all(_public(a) for a in addresses):
            raise FetchRefused(f"the host of {url!r} has a private, loopback or otherwise non-public address")
        address = addresses[0]
        literal = f"[{address}]" if ":" in address else address
        pinned = urlunsplit((parts.scheme, f"{literal}:{port}", parts.path or "/", parts.query, ""))
        default_port = port == (443 if parts.scheme == "https" else 80)
        host_header = (f"[{host}]" if ":" in host else host) + ("" if default_port else f":{port}")
        return pinned, host_header, host

    def _verify(self) -> ssl.SSLContext:
        """The TLS context of every connection: the default authorities, and ``ca_file``'s too; built once."""
        if self._tls is None:
            context = httpx.create_ssl_context()
            if self.ca_file:
                context.load_verify_locations(cafile=self.ca_file)
            self._tls = context
        return self._tls

    def post_form(self, url: str, form: dict[str, str]) -> int:
        """POST ``form`` to ``url`` under the same rules (a back-channel logout to a client that registered
        itself); the status code. Not cached; ``FetchRefused`` when the target or the transport fails."""
        pinned, host_header, server_name = self._target(url)
        timeout = httpx.Timeout(TOTAL_SECONDS, connect=CONNECT_SECONDS)
        try:
            with httpx.Client(timeout=timeout, follow_redirects=False, trust_env=False,
                              verify=self._verify()) as http:
                request = http.build_request("POST", pinned, data=form, headers={"Host": host_header},
                                             extensions={"sni_hostname": server_name})
                response = http.send(request)
                response.close()
        except httpx.HTTPError as error:
            raise FetchRefused(f"{url!r} could not be reached ({type(error).__name__})") from None
        return response.status_code

    def exchange(self, url: str, *, form: dict[str, str] | None = None, headers: dict[str, str] | None = None
                 ) -> tuple[int, dict]:
        """One request under the same rules, never cached: a POST of ``form`` (a token request) or, without one, a
        GET (a UserInfo request with its bearer token); the status and the JSON object answered, whatever the
        status (an OAuth error is JSON too). ``FetchRefused`` when the target, the transport or the body fails."""
        pinned, host_header, server_name = self._target(url)
        timeout = httpx.Timeout(TOTAL_SECONDS, connect=CONNECT_SECONDS)
        sent = {"Host": host_header, "Accept": "application/json", **(headers or {})}
        try:
            with httpx.Client(timeout=timeout, follow_redirects=False, trust_env=False) as http:
                request = http.build_request("POST" if form is not None else "GET", pinned, data=form, headers=sent,
                                             extensions={"sni_hostname": server_name})
                response = http.send(request, stream=True)
                try:
                    body = self._capped_body(url, response, time.monotonic() + TOTAL_SECONDS)
                finally:
                    response.close()
        except httpx.HTTPError as error:
            raise FetchRefused(f"{url!r} could not be reached ({type(error).__name__})") from None
        return response.status_code, self._json_object(url, body)

    def _capped_body(self, url: str, response: httpx.Response, deadline: float) -> bytes:
        declared = response.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > self.max_bytes:
            raise FetchRefused(f"{url!r} is larger than {self.max_bytes} bytes")
        body = bytearray()
        for chunk in response.iter_bytes():
            body += chunk
            if len(body) > self.max_bytes:
                raise FetchRefused(f"{url!r} is larger than {self.max_bytes} bytes")
            if time.monotonic() > deadline:
                raise FetchRefused(f"{url!r} took longer than {TOTAL_SECONDS:g} seconds")
        return bytes(body)

    @staticmethod
    def _json_object(url: str, body: bytes) -> dict:
        try:
            document = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            raise FetchRefused(f"{url!r} is not JSON") from None
        if not isinstance(document, dict):
            raise FetchRefused(f"{url!r} is not a JSON object")
        return document

    def _fetch(self, url: str) -> tuple[dict, int]:
        pinned, host_header, server_name = self._target(url)
        timeout = httpx.Timeout(TOTAL_SECONDS, connect=CONNECT_SECONDS)
        deadline = time.monotonic() + TOTAL_SECONDS
        try:
            with httpx.Client(timeout=timeout, follow_redirects=False, trust_env=False,
                              verify=self._verify()) as http:
                request = http.build_request("GET", pinned, headers={"Host": host_header, "Accept": "application/json"},
                                             extensions={"sni_hostname": server_name})
                response = http.send(request, stream=True)
                try:
                    if response.is_redirect:
                        raise FetchRefused(f"{url!r} answered with a redirect, which is not followed")
                    if response.status_code != 200:
                        raise FetchRefused(f"{url!r} answered HTTP {response.status_code}")
                    body = self._capped_body(url, response, deadline)
                finally:
                    response.close()
        except httpx.HTTPError as error:
            raise FetchRefused(f"{url!r} could not be fetched ({type(error).__name__})") from None
        return self._json_object(url, body), cache_seconds(response.headers.get("cache-control"))
