"""Mint refresh tokens with authgate's own services, straight into its database (run in the bench
venv with the server's AUTHGATE_* environment). Usage: USERNAME CLIENT_ID SCOPE COUNT OUTFILE."""

import sys

from authgate.services.runtime import Runtime
from authgate.settings import load


def main(username: str, client_id: str, scope: str, count: int, outfile: str) -> None:
    runtime = Runtime.open(load())
    tokens = []
    with runtime.db.session() as s:
        user = runtime.users.by_username(s, username)
        client = runtime.clients.get(s, client_id)
        for _ in range(count):
            family = runtime.tokens.start_family(s, client, user, "password", scope)
            tokens.append(runtime.tokens.issue_refresh_token(s, family, scope))
    with open(outfile, "w") as f:
        f.write("".join(t + "\n" for t in tokens))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5])
