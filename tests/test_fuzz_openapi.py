"""Fuzzing the resource API from its own OpenAPI document with schemathesis (issue 7 §Tests):
thousands of generated requests — valid, boundary and malformed — against every operation, as an
administrator, and not one 5xx. Errors are checked for their documented shape by the API tests."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from support import api_for

MAX_EXAMPLES = 25


def test_no_api_operation_answers_5xx(server_factory, tmp_path):
    srv = server_factory({"AUTHGATE_LIMIT_TOKEN_PER_IP": "off"})
    token = api_for(srv, "admin").token
    cli = Path(sys.executable).with_name("schemathesis")
    proc = subprocess.run(
        [str(cli), "run", srv.url("/api/openapi.json"), "--header", f"Authorization: Bearer {token}",
         "--checks", "not_a_server_error", "--max-examples", str(MAX_EXAMPLES), "--seed", "20261129",
         "--request-timeout", "20"],
        capture_output=True, text=True, timeout=900, cwd=tmp_path,
    )
    out = proc.stdout + proc.stderr
    generated = re.search(r"(\d+) generated", out)
    assert proc.returncode == 0, out[-6000:]
    assert generated and int(generated.group(1)) >= 1000, out[-2000:]
    print(f"schemathesis: {generated.group(0)} test cases, no server error")
