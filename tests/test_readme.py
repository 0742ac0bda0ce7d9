"""The README holds on any machine (issue 14 item 1): every link stays inside the repository, the
shell examples run in POSIX sh, and the guide's snippets it reproduces are the guide's own (as
test_guide_snippets.py runs them), with only the instance, redirect URI, scope and endpoint filled
in and the unpacking fault mended.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from test_guide_snippets import (ENDPOINT, GUIDE_AUTHORIZATION_CODE, GUIDE_PASSWORD, GUIDE_PERSONAL_ACCESS_TOKEN,
                                 INSTANCE)

REPO = Path(__file__).resolve().parent.parent
READMES = [REPO / "README.md", REPO / "client" / "README.md"]
LOCAL = "http://127.0.0.1:8000"
AS_HERE = {INSTANCE: LOCAL, "<your-redirect-uri>": f"{LOCAL}/oauth/code", "<your-scope>": "users:read",
           "<your-endpoint>": ENDPOINT, "auth_url, _ = client.prepare_request_uri(": "auth_url = client.prepare_request_uri("}


def as_in_readme(snippet: str) -> str:
    for placeholder, value in AS_HERE.items():
        snippet = snippet.replace(placeholder, value)
    return snippet


@pytest.mark.parametrize("readme", READMES, ids=lambda p: str(p.relative_to(REPO)))
def test_every_link_stays_in_the_repository(readme):
    for target in re.findall(r"\]\(([^)\s]+)\)", readme.read_text()):
        if target.startswith("#") or target.startswith(LOCAL):
            continue
        assert "://" not in target, f"{readme.name} links out of the repository: {target}"
        path = (readme.parent / target.split("#")[0]).resolve()
        assert path.is_relative_to(REPO) and path.exists(), f"{readme.name}: {target} is not in the repository"


@pytest.mark.parametrize("readme", READMES, ids=lambda p: str(p.relative_to(REPO)))
def test_shell_examples_are_posix_sh(readme):
    for block in re.findall(r"```(?:sh|shell)\n(.*?)```", readme.read_text(), re.S):
        assert "<<<" not in block and "[[" not in block and "$'" not in block, block


@pytest.mark.parametrize("name, guide", [("authorization_code", GUIDE_AUTHORIZATION_CODE), ("password", GUIDE_PASSWORD),
                                         ("personal_access_token", GUIDE_PERSONAL_ACCESS_TOKEN)])
def test_the_readme_reproduces_the_guides_snippets(name, guide):
    match = re.search(rf"<!-- guide: {name} -->\s*```python\n(.*?)```", (REPO / "README.md").read_text(), re.S)
    assert match, f"no guide snippet {name} in README.md"
    assert match.group(1).rstrip("\n") == as_in_readme(guide).rstrip("\n")
