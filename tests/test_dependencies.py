"""What `make run` installs is enough to serve: every third-party module the server's code imports comes with
a distribution named in ``[project] dependencies`` (directly or as one of their requirements), not only with the
test extra that `make test` adds (a server that starts in CI could otherwise fail on a user's machine)."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "src" / "authgate"


def imported_top_levels() -> set[str]:
    names = set()
    for path in SOURCE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
    return names - set(sys.stdlib_module_names) - {"authgate"}


def distribution_name(requirement: str) -> str:
    return re.split(r"[\s\[<>=!~;]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def with_requirements(names: set[str]) -> set[str]:
    """``names`` and everything they require (extras left out), as installed."""
    seen, todo = set(), list(names)
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        try:
            requirements = metadata.requires(name) or []
        except metadata.PackageNotFoundError:  # required only under another Python or platform (a marker)
            continue
        seen.add(name)
        for requirement in requirements:
            if "extra ==" not in requirement:
                todo.append(distribution_name(requirement))
    return seen


def test_every_module_the_server_imports_comes_with_its_declared_dependencies():
    """An optional feature's extra (``ldap``: python-ldap, which compiles) counts too: its module is imported only
    when the feature is used, and says which extra to install otherwise; the test extra never counts."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = project["dependencies"] + [requirement for extra, requirements in project["optional-dependencies"].items()
                                          if extra != "test" for requirement in requirements]
    installed_with_run = with_requirements({distribution_name(r) for r in declared})
    providers = metadata.packages_distributions()
    missing = {module: providers.get(module) for module in imported_top_levels()
               if not {d.lower().replace("_", "-") for d in providers.get(module, [])} & installed_with_run}
    assert missing == {}, f"imported by src/authgate but not installed by `make run`: {missing}"
