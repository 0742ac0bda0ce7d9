#!/usr/bin/env python3
"""Run the benchmark: authgate beside panva's oidc-provider (Node.js), django-oauth-toolkit,
Authlib's Flask example server and a bare ASGI app, all on loopback, driven by wrk (load on core 0,
servers on core 1); requests/s and the server's CPU time per request for every workload.

    python3 bench/run.py            # every server, every workload, 10 s each -> bench/results/latest.*
    python3 bench/run.py --db sqlite,postgres --workers 1,2   # four passes in one command
    python3 bench/run.py --quick    # a smoke run in about two minutes -> bench/results/quick.*
    python3 bench/run.py --growth   # authgate's W1-W3 with 10^3 and then 10^6 stored tokens
    python3 bench/run.py --profile  # py-spy on authgate during W1 and W2 -> bench/results/profile-*
    python3 bench/run.py --cli      # the authgate command's start-up times only (also in every full run)

The first run creates bench/.venv with the pinned peers (bench/requirements.txt) and authgate,
installs the oidc-provider peer and its Node.js runtime with npm (bench/peers/oidc_provider, a few
minutes: better-sqlite3 is compiled), and installs wrk with apt-get if it is missing. See
docs/performance.md for the method.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchlib import env  # noqa: E402

if not env.in_venv():
    env.reexec_in_venv()

from benchlib.main import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
