"""The layers point one way: the adapters (``web/``, ``cli/``) call the protocol core (``oauth/``), which
calls ``services/``, which calls ``storage/``; ``security/`` (and beneath it ``settings``) sits beneath them all. Nothing
below imports what is above, and the two adapters do not import each other. Grants get their services at
registration (``GrantServices``), not by reaching into the server's runtime. These tests read the source
(imports inside functions included), so a lazy import cannot hide an upward one.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import authgate

PACKAGE = Path(authgate.__file__).parent
RANK = {"settings": 0, "security": 1, "storage": 2, "services": 3, "oauth": 4, "web": 5, "cli": 5}


def layer_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if parts[0] == "authgate" and len(parts) > 1 and parts[1] in RANK else None


def imported(path: Path) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
        elif isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
    return found


def upward_imports(layer: str) -> list[str]:
    files = sorted((PACKAGE / layer).rglob("*.py")) if (PACKAGE / layer).is_dir() else [PACKAGE / f"{layer}.py"]
    wrong = []
    for path in files:
        for line, module in imported(path):
            other = layer_of(module)
            if other and other != layer and RANK[other] >= RANK[layer]:
                wrong.append(f"{path.relative_to(PACKAGE)}:{line} imports {module}")
    return wrong


@pytest.mark.parametrize("layer", sorted(RANK))
def test_nothing_below_imports_what_is_above(layer):
    assert upward_imports(layer) == []


def test_the_probe_sees_an_upward_import(tmp_path, monkeypatch):
    fake = tmp_path / "storage"
    fake.mkdir()
    (fake / "bad.py").write_text("def f():\n    from authgate.web.app import create_app\n")
    monkeypatch.setattr(__import__(__name__), "PACKAGE", tmp_path)
    assert upward_imports("storage") == ["storage/bad.py:2 imports authgate.web.app"]


def test_grants_are_given_their_services_not_the_runtime():
    reaching = [f"{path.name}:{node.lineno}"
                for path in sorted((PACKAGE / "oauth" / "grants").rglob("*.py"))
                for node in ast.walk(ast.parse(path.read_text()))
                if isinstance(node, ast.Attribute) and node.attr == "runtime"
                and path.name != "base.py"]
    assert reaching == []
