#!/usr/bin/env python3
"""Fill authgate's database with stored tokens, fast: bulk inserts with SQLAlchemy core against
authgate's own models, no HTTP. For the "flat cost as data grows" comparison (W1-W3 at 10^3 and
10^6 stored tokens).

    python3 bench/seed.py --tokens 1000000 [--database-url URL]

Adds TOKENS rows to each of oauth_access_tokens, oauth_token_families, oauth_refresh_tokens and
personal_access_tokens, all live (unexpired, unrevoked), for a dedicated seed user and client.
The database URL defaults to AUTHGATE_DATABASE_URL, as for the server; the schema must exist.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchlib import env  # noqa: E402

if not env.in_venv():
    env.reexec_in_venv()

from benchlib.seeding import seed  # noqa: E402


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="bench/seed.py", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tokens", type=int, required=True, help="rows to add to each token table")
    parser.add_argument("--database-url", help="default: AUTHGATE_DATABASE_URL")
    args = parser.parse_args(argv)
    seconds = seed(args.tokens, args.database_url)
    print(f"added {args.tokens:,} tokens of each kind in {seconds:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
