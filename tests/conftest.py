"""Fixtures for the authgate black-box suite.

One real `authgate serve` subprocess (SQLite in a tmp dir, or a fresh
PostgreSQL database `authgate_t_<random>` when AUTHGATE_TEST_DATABASE_URL is
set) serves most tests; `server_factory` starts extra servers with other
settings on their own databases. Users, clients and tokens are created by the
CLI's own commands (in the test process, `seed.py`) with unique names, so no
test depends on another one or on their order.
"""

from __future__ import annotations

import pytest

from support import SHORT_TTL, ServerProcess, unique


@pytest.fixture(scope="session")
def server_factory(tmp_path_factory):
    started: list[ServerProcess] = []

    def start(env: dict | None = None, host: str = "127.0.0.1") -> ServerProcess:
        srv = ServerProcess(tmp_path_factory.mktemp("authgate"), env=env, host=host)
        started.append(srv)
        return srv.start()

    yield start
    errors = []
    for srv in started:
        try:
            srv.stop()
        except Exception as e:  # keep stopping the others
            errors.append(e)
    if errors:
        raise errors[0]


@pytest.fixture(scope="module")
def documents():
    """JSON documents served on loopback (``support/documents.py``): key sets and client metadata documents that
    a server with ``AUTHGATE_FETCH_ALLOW_PRIVATE`` fetches; its request counts are the module's own."""
    from support.documents import DocumentServer

    published = DocumentServer()
    yield published
    published.close()


@pytest.fixture(scope="session")
def server(server_factory) -> ServerProcess:
    return server_factory()


@pytest.fixture(scope="session")
def short_ttl_server(server_factory) -> ServerProcess:
    """A second server whose codes, access tokens and refresh tokens live SHORT_TTL seconds: long
    enough for a control step on a loaded machine, short enough to wait out."""
    return server_factory(
        {
            "AUTHGATE_AUTH_CODE_TTL": str(SHORT_TTL),
            "AUTHGATE_ACCESS_TOKEN_TTL": str(SHORT_TTL),
            "AUTHGATE_REFRESH_TOKEN_TTL": str(SHORT_TTL),
        }
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
