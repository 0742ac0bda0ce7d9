"""Take the README's two federation screenshots in headless Chromium (not run by the test suite):
``docs/images/signin-providers.png`` (the sign-in page with provider buttons) and
``docs/images/linked-identities.png`` (the account page's linked sign-ins).

It starts a throw-away authgate (SQLite, a temporary directory) and the loopback OpenID Provider the tests use
(``tests/support/oidc_stub.py``), adds two providers, signs a user in with a password and links one of them, as a
person would. Run from the repository's root:

    PYTHONPATH=$PWD/src:$PWD/client/src .venv/bin/python docs/federation_screenshots.py
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from support.oidc_stub import OidcStub  # noqa: E402
from support.server import ServerProcess  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]
IMAGES = ROOT / "docs" / "images"
PROVIDERS = ("Corp", "Partners")


def add_provider(srv: ServerProcess, stub: OidcStub, name: str) -> None:
    srv.commands.run_json("providers", "add", "--kind", "oidc", "--name", name, "--issuer", stub.issuer,
                          "--client-id", "authgate", "--client-secret-stdin", "--allow-private-network",
                          input="screenshot-secret\n")


def main() -> None:
    from playwright.sync_api import sync_playwright

    IMAGES.mkdir(parents=True, exist_ok=True)
    stub = OidcStub()
    stub.claims = {"sub": "248289761001", "email": "ann.lee@corp.example", "email_verified": True}
    srv = ServerProcess(Path(tempfile.mkdtemp(prefix="authgate-shots-"))).start()
    try:
        for name in PROVIDERS:
            add_provider(srv, stub, name)
        user = srv.create_user("ann")
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
            try:
                page = chromium.new_context(base_url=srv.base_url, viewport={"width": 900, "height": 640}).new_page()
                page.goto("/login")
                page.locator("main .card").first.screenshot(path=str(IMAGES / "signin-providers.png"))
                page.get_by_label("Username or email").fill(user.username)
                page.get_by_label("Password").fill(user.password)
                page.get_by_role("button", name="Sign in", exact=True).click()
                page.wait_for_url("**/")
                page.goto("/profile")
                page.locator("#linked-identities").get_by_role("button", name=f"Link {PROVIDERS[0]}").click()
                page.wait_for_url("**/profile")
                page.locator("#linked-identities").screenshot(path=str(IMAGES / "linked-identities.png"))
            finally:
                chromium.close()
    finally:
        srv.stop()
        stub.close()
    for name in ("signin-providers.png", "linked-identities.png"):
        print(IMAGES / name, (IMAGES / name).stat().st_size, "bytes")


if __name__ == "__main__":
    main()
