"""Fixtures for the authgate black-box suite.

One real `authgate serve` subprocess (SQLite in a tmp dir, or a fresh
PostgreSQL database `authgate_t_<random>` when AUTHGATE_TEST_DATABASE_URL is
set) serves most tests; `server_factory` starts extra servers with other
settings on their own databases. Users, clients and tokens are created by the
CLI's own commands (in the test process, `seed.py`) with unique names, so no
test depends on another one or on their order.
"""

from __future__ import annotations

import os

import pytest

from support import SHORT_TTL, ServerProcess, unique
from support.databases import drop_templates


class _Servers:
    """Every server the session started: the session's own (``server``, ``short_ttl_server``) live until
    the session ends; any other stops when the module that started it ends, so a worker holds only its
    current module's servers (memory, and PostgreSQL connections of max_connections 100)."""

    def __init__(self, tmp_path_factory):
        self._tmp = tmp_path_factory
        self.kept: list[ServerProcess] = []
        self.module: list[ServerProcess] = []

    def start(self, env: dict | None = None, host: str = "127.0.0.1", *, keep: bool = False,
              fresh: bool = False, workers: int = 1) -> ServerProcess:
        srv = ServerProcess(self._tmp.mktemp("authgate"), env=env, host=host, fresh=fresh, workers=workers)
        (self.kept if keep else self.module).append(srv)
        return srv.start()

    @staticmethod
    def stop(servers: list[ServerProcess]) -> None:
        errors = []
        while servers:
            try:
                servers.pop().stop()
            except Exception as e:  # keep stopping the others
                errors.append(e)
        if errors:
            raise errors[0]


@pytest.fixture(scope="session")
def _servers(tmp_path_factory):
    servers = _Servers(tmp_path_factory)
    yield servers
    try:
        servers.stop(servers.module)
    finally:
        try:
            servers.stop(servers.kept)
        finally:
            drop_templates()


@pytest.fixture(scope="session")
def server_factory(_servers):
    """server_factory(env=None, host="127.0.0.1", workers=1) -> a started ServerProcess on a database of its own,
    stopped (and its database dropped) when the module that asked for it ends."""
    return _servers.start


@pytest.fixture(scope="module", autouse=True)
def _stop_the_modules_servers(_servers):
    # autouse and module-scoped: set up before, so torn down after, the module's own fixtures
    yield
    _servers.stop(_servers.module)


@pytest.fixture(scope="module")
def documents():
    """JSON documents served on loopback (``support/documents.py``): key sets and client metadata documents that
    a server with ``AUTHGATE_FETCH_ALLOW_PRIVATE`` fetches; its request counts are the module's own."""
    from support.documents import DocumentServer

    published = DocumentServer()
    yield published
    published.close()


@pytest.fixture(scope="module")
def stub():
    """A small OpenID provider on loopback (``support/oidc_stub.py``) that upstream-provider tests point at."""
    from support.oidc_stub import OidcStub

    peer = OidcStub()
    yield peer
    peer.close()


@pytest.fixture(scope="module")
def oauth2_stub():
    """A plain OAuth 2.0 provider on loopback, GitHub-style (``support/oauth2_stub.py``)."""
    from support.oauth2_stub import OAuth2Stub

    peer = OAuth2Stub()
    yield peer
    peer.close()


@pytest.fixture(scope="session")
def server(_servers) -> ServerProcess:
    # on an empty database: every worker's run migrates one through `authgate serve` itself
    return _servers.start(keep=True, fresh=True)


@pytest.fixture(scope="session")
def short_ttl_server(_servers) -> ServerProcess:
    """A second server whose codes, access tokens and refresh tokens live SHORT_TTL seconds: long
    enough for a control step on a loaded machine, short enough to wait out."""
    return _servers.start(
        {
            "AUTHGATE_AUTH_CODE_TTL": str(SHORT_TTL),
            "AUTHGATE_ACCESS_TOKEN_TTL": str(SHORT_TTL),
            "AUTHGATE_REFRESH_TOKEN_TTL": str(SHORT_TTL),
        },
        keep=True,
    )


@pytest.fixture
def cli(server):
    """cli(*args, input=None) -> CompletedProcess of `python -m authgate ...`."""
    return server.cli


@pytest.fixture
def make_user(server):
    """make_user() -> support.User; unique name; unpacks as `username, password = make_user()`."""
    return server.create_user


@pytest.fixture
def make_client(server):
    """make_client(redirect_uris=..., grants=..., scopes=..., public=...) -> support.Client."""
    return server.create_client


@pytest.fixture
def db_dump(server):
    """db_dump() -> every row of every table of the server's database, as text."""
    return server.db.dump_text


@pytest.fixture
def redirect_uri() -> str:
    # Never dereferenced: the tests read the Location header and stop there.
    return f"https://{unique('app')}.example.org/callback"


@pytest.fixture(scope="session")
def admin(server):
    """support.Api with a personal access token of the administrator (every permission, scope *)."""
    from support import admin_api

    return admin_api(server)


def pytest_runtest_setup(item):
    """A ``serial`` test (it stops PostgreSQL) refuses to run beside other workers rather than fail
    theirs; `make test` runs the serial tests in a pass of their own after the parallel one."""
    if item.get_closest_marker("serial") and int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1")) > 1:
        pytest.fail(f"{item.nodeid} must run alone: make test runs it after the parallel pass "
                    "(or: python -m pytest -m serial)", pytrace=False)
