"""How commands print: one JSON object with ``--json``, plain lines otherwise."""

from __future__ import annotations

import json
import sys


def emit(as_json: bool, data: dict, lines: list[str]) -> None:
    if as_json:
        sys.stdout.write(json.dumps(data) + "\n")
    else:
        sys.stdout.write("\n".join(lines) + "\n")
