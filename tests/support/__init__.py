"""Helpers shared by the black-box tests: the server process, its database,
the CLI, an HTML form parser and a small "browser" that signs in and answers
the consent page exactly as a person would.

Nothing here knows anything about authgate's internals; everything goes
through HTTP, the command line (users, clients and tokens are seeded by the
CLI's own commands run in the test process: `seed.py`), or (for the
secrets-at-rest checks) a plain read of the database tables.
"""

from __future__ import annotations

from support.databases import (  # noqa: F401
    libpq_url,
    SqliteDatabase,
    PostgresDatabase,
    new_database,
)
from support.server import (  # noqa: F401
    HTTP_TIMEOUT,
    SHORT_TTL,
    CLI_TIMEOUT,
    free_port,
    ServerProcess,
)
from support.values import (  # noqa: F401
    unique,
    User,
    Client,
    pkce_pair,
    query_params,
    without_query,
    one_line_error,
    jwt_parts,
    b64url_json,
    eventually,
)
from support.pages import (  # noqa: F401
    Form,
    PageParser,
    parse_page,
)
from support.browser import (  # noqa: F401
    Browser,
)
from support.oauth import (  # noqa: F401
    token_request,
    password_grant,
    assert_token_error,
    assert_no_store,
    authorization_params,
    get_code,
    exchange_code,
    code_flow_tokens,
    refresh,
    revoke,
    introspect,
)
from support.api import (  # noqa: F401
    API,
    Api,
    api_for,
    users_me,
    user_via_api,
    admin_api,
    grant,
    assert_unauthenticated,
    assert_forbidden,
    assert_not_found,
    assert_conflict,
    assert_invalid,
    from_address,
)
