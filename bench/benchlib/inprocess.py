"""One token-endpoint workload driven through authgate's ASGI app in this process, without HTTP or wrk:
CPU per request (``time.process_time``, every thread of the process, the thread pool included) and,
with ``--profile``, where it goes (cProfile, or pyinstrument with ``--pyinstrument``).

It measures what the server does above uvicorn's HTTP parsing, on a machine too loaded for requests
per second to mean anything. Run it in the bench venv (authgate editable from this repository)::

    bench/.venv/bin/python bench/benchlib/inprocess.py W2 --requests 3000 [--profile] [--db URL]

W2 client credentials, W3 introspection of a JWT, W4 refresh with rotation (tokens minted first),
W5 code exchange (codes minted first, PKCE S256). Requests run one after another (``--concurrency``
of them in flight at once on the event loop, as wrk's connections would be).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import cProfile
import gc
import os
import pstats
import secrets
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

SCOPE = "users:read"
REDIRECT_URI = "http://127.0.0.1:9/cb"
VERIFIER = "v" * 64


def _environment(workdir: Path, database_url: str | None) -> None:
    for key in [k for k in os.environ if k.startswith("AUTHGATE_")]:
        del os.environ[key]
    os.environ.update({
        "AUTHGATE_DATABASE_URL": database_url or f"sqlite:///{workdir / 'authgate.db'}",
        "AUTHGATE_ISSUER": "http://127.0.0.1:8999",
        "AUTHGATE_ADMIN_PASSWORD": "admin-" + secrets.token_urlsafe(12),
        "AUTHGATE_AUTH_CODE_TTL": "3600",
        **{name: "100000000/60" for name in ("AUTHGATE_LIMIT_TOKEN_PER_IP", "AUTHGATE_LIMIT_TOKEN_PER_CLIENT",
                                             "AUTHGATE_LIMIT_LOGIN_PER_IP")},
    })


def _prepare(alg: str | None = None):
    """The schema, the bench user and a client allowed every grant; the ASGI app over them."""
    from authgate.services.runtime import Runtime
    from authgate.settings import load
    from authgate.web.app import create_app

    settings = load()
    setup = Runtime.open(settings, upgrade=True)
    setup.first_start()
    with setup.db.session() as s:
        user = setup.users.create(s, "bench", "bench@example.org", "pw-" + secrets.token_urlsafe(12),
                                  verify_email=False)
        client, secret = setup.clients.create(s, "bench", redirect_uris=[REDIRECT_URI], scopes=[],
                                              grants=["authorization_code", "password", "client_credentials",
                                                      "refresh_token"])
        ids = user.id, client.client_id
        if alg:
            setup.keys.rotate(s, alg, now=True)
    setup.db.engine.dispose()
    app = create_app(settings)
    return app, ids[0], ids[1], secret


def _mint_refresh(runtime, user_id: int, client_id: str, count: int) -> list[str]:
    with runtime.db.session() as s:
        user, client = runtime.users.get(s, user_id), runtime.clients.get(s, client_id)
        tokens = []
        for _ in range(count):
            family = runtime.tokens.start_family(s, client, user, "password", SCOPE)
            tokens.append(runtime.tokens.issue_refresh_token(s, family, SCOPE))
    return tokens


def _mint_codes(runtime, user_id: int, client_id: str, count: int) -> list[str]:
    import hashlib

    challenge = base64.urlsafe_b64encode(hashlib.sha256(VERIFIER.encode()).digest()).rstrip(b"=").decode()
    codes = []
    with runtime.db.session() as s:
        user, client = runtime.users.get(s, user_id), runtime.clients.get(s, client_id)
        for _ in range(count):
            code = secrets.token_urlsafe(32)
            runtime.codes.create(s, code, client=client, user=user, redirect_uri=REDIRECT_URI, scope=SCOPE,
                                 code_challenge=challenge, code_challenge_method="S256", nonce=None)
            codes.append(code)
    return codes


class _Call:
    """One HTTP request through the ASGI app; the status and body it got."""

    def __init__(self, app, path: str, body: bytes, authorization: str):
        self.app, self.path, self.body, self.authorization = app, path, body, authorization

    async def __call__(self) -> tuple[int, bytes]:
        scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
                 "scheme": "http", "path": self.path, "raw_path": self.path.encode(), "query_string": b"",
                 "root_path": "", "client": ("127.0.0.1", 40000), "server": ("127.0.0.1", 8999),
                 "headers": [(b"host", b"127.0.0.1:8999"), (b"authorization", self.authorization.encode()),
                             (b"content-type", b"application/x-www-form-urlencoded"),
                             (b"content-length", str(len(self.body)).encode())],
                 "state": {}}
        sent = False
        status, chunks = 0, []

        async def receive():
            nonlocal sent
            if sent:
                await asyncio.sleep(3600)
            sent = True
            return {"type": "http.request", "body": self.body, "more_body": False}

        async def send(message):
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await self.app(scope, receive, send)
        return status, b"".join(chunks)


async def _lifespan(app):
    """Run the app's lifespan start-up (the background thread that keeps the caches fresh)."""
    queue: asyncio.Queue = asyncio.Queue()
    await queue.put({"type": "lifespan.startup"})
    started = asyncio.Event()

    async def receive():
        return await queue.get()

    async def send(message):
        if message["type"] == "lifespan.startup.complete":
            started.set()

    task = asyncio.ensure_future(app({"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}, receive, send))
    await started.wait()
    return queue, task


def _bodies(workload: str, runtime, user_id, client_id, count: int, jwt: str) -> list[bytes]:
    if workload == "W2":
        return [urlencode({"grant_type": "client_credentials", "scope": SCOPE}).encode()] * count
    if workload == "W3":
        return [urlencode({"token": jwt}).encode()] * count
    if workload == "W4":
        return [urlencode({"grant_type": "refresh_token", "refresh_token": t}).encode()
                for t in _mint_refresh(runtime, user_id, client_id, count)]
    if workload == "W5":
        return [urlencode({"grant_type": "authorization_code", "code": c, "redirect_uri": REDIRECT_URI,
                           "code_verifier": VERIFIER}).encode() for c in _mint_codes(runtime, user_id, client_id, count)]
    raise SystemExit(f"unknown workload {workload}")


def _inline() -> None:
    """The routes' ``run_in_threadpool`` as a plain call, so that a profiler of this thread sees the work."""
    import sys as _sys

    async def run_here(function, *args, **kwargs):
        return function(*args, **kwargs)

    for name, module in list(_sys.modules.items()):
        if name.startswith("authgate.web") and getattr(module, "run_in_threadpool", None) is not None:
            module.run_in_threadpool = run_here


async def _handshake(path: str) -> None:
    """Make ``path``, then wait until the caller removes it (``callgrind.sh`` turns instrumentation on or off)."""
    Path(path).touch()
    while Path(path).exists():
        await asyncio.sleep(0.05)


async def _run(args) -> None:
    app, user_id, client_id, secret = _prepare(args.alg)
    if args.inline:
        _inline()
    runtime = app.state.runtime
    queue, task = await _lifespan(app)
    basic = "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    path = "/oauth/introspect" if args.workload == "W3" else "/oauth/token"
    first = _Call(app, "/oauth/token", urlencode({"grant_type": "client_credentials", "scope": SCOPE}).encode(), basic)
    status, body = await first()
    assert status == 200, body
    import json

    jwt = json.loads(body)["access_token"]
    warm = _bodies(args.workload, runtime, user_id, client_id, args.warmup, jwt)
    bodies = _bodies(args.workload, runtime, user_id, client_id, args.requests, jwt)

    async def drive(batch: list[bytes]) -> list[int]:
        statuses = []
        pending = list(reversed(batch))

        async def worker():
            while pending:
                status, answer = await _Call(app, path, pending.pop(), basic)()
                if status != 200 and len(statuses) < 3:
                    print("error", status, answer[:300], file=sys.stderr)
                statuses.append(status)

        await asyncio.gather(*(worker() for _ in range(args.concurrency)))
        return statuses

    await drive(warm)
    if args.signal:
        # Under valgrind, which runs one thread at a time, the revocation sync thread can fall more than the bus's
        # STALE_AFTER behind, and the caches then send requests to the database: held fresh while counting.
        runtime.bus.fresh = lambda: True
        gc.collect()
        gc.freeze()
        await _handshake(args.signal)
    profiler = cProfile.Profile() if args.profile else None
    instrument = None
    if args.pyinstrument:
        from pyinstrument import Profiler

        instrument = Profiler(interval=0.0002, async_mode="disabled")
        instrument.start()
    if profiler:
        profiler.enable()
    cpu, wall = time.process_time(), time.perf_counter()
    statuses = await drive(bodies)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    if profiler:
        profiler.disable()
    if instrument:
        instrument.stop()
    if args.signal:
        await _handshake(args.signal + ".done")
    bad = sum(1 for s in statuses if s != 200)
    print(f"{args.workload}: {len(statuses)} requests, {bad} not 200, CPU {cpu / len(statuses) * 1e6:.0f} us/request, "
          f"wall {wall / len(statuses) * 1e6:.0f} us/request")
    if profiler:
        stats = pstats.Stats(profiler)
        stats.sort_stats(args.sort).print_stats(args.top)
    if instrument:
        print(instrument.output_text(unicode=False, color=False, show_all=False))
    await queue.put({"type": "lifespan.shutdown"})
    await task


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workload", choices=("W2", "W3", "W4", "W5"))
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--warmup", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--db", help="a database URL (default: a new SQLite file); PostgreSQL: a new empty database")
    parser.add_argument("--alg", choices=("ES256", "EdDSA"),
                        help="rotate to a key of this algorithm first (`authgate keys rotate --now --alg`)")
    parser.add_argument("--profile", action="store_true", help="cProfile the measured requests")
    parser.add_argument("--pyinstrument", action="store_true", help="pyinstrument the measured requests")
    parser.add_argument("--inline", action="store_true",
                        help="run the token endpoint's thread-pool work on the event loop's thread (cProfile sees one thread)")
    parser.add_argument("--signal", help="a file to make, then wait for its removal, before and after the measured "
                        "requests (for valgrind's callgrind_control: see callgrind.sh)")
    parser.add_argument("--sort", default="tottime")
    parser.add_argument("--top", type=int, default=45)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="authgate-inprocess-") as workdir:
        _environment(Path(workdir), args.db)
        try:
            import uvloop

            uvloop.run(_run(args))
        except ImportError:
            asyncio.run(_run(args))


if __name__ == "__main__":
    main()
