"""A browser's ``User-Agent`` as a person recognises it: "Firefox on Linux", "Safari on iOS".

A few ordered rules over the tokens browsers have sent for a decade, not a database of devices: the summary
only has to tell one's own sessions apart, and the full string is kept beside it for whoever wants more.
"""

from __future__ import annotations

import re

MAX_LENGTH = 255

# Order matters: Edge and Opera also say Chrome, Chrome also says Safari, and every browser says Mozilla.
BROWSERS = (
    ("HeadlessChrome/", "Headless Chrome"),
    ("Edg/", "Edge"), ("EdgA/", "Edge"), ("EdgiOS/", "Edge"),
    ("OPR/", "Opera"), ("Opera", "Opera"),
    ("SamsungBrowser/", "Samsung Internet"),
    ("Vivaldi/", "Vivaldi"),
    ("FxiOS/", "Firefox"), ("Firefox/", "Firefox"),
    ("CriOS/", "Chrome"), ("Chromium/", "Chromium"), ("Chrome/", "Chrome"),
    ("Version/", "Safari"),
    ("Trident/", "Internet Explorer"), ("MSIE ", "Internet Explorer"),
)
SYSTEMS = (
    ("Windows", "Windows"), ("iPhone", "iOS"), ("iPad", "iPadOS"), ("Android", "Android"), ("CrOS", "ChromeOS"),
    ("Mac OS X", "macOS"), ("Macintosh", "macOS"), ("Linux", "Linux"), ("FreeBSD", "FreeBSD"),
)
PRODUCT = re.compile(r"[A-Za-z][\w.-]{0,40}")


def clean(user_agent: str | None) -> str | None:
    """The header as stored: control characters dropped (PostgreSQL text cannot hold NUL), cut to ``MAX_LENGTH``."""
    if not user_agent:
        return None
    kept = "".join(c for c in user_agent if c.isprintable()).strip()
    return kept[:MAX_LENGTH] or None


def summary(user_agent: str | None) -> str:
    """"Browser on OS"; a program that is no browser by its first product name ("curl", "python-requests")."""
    if not user_agent:
        return "Unknown browser"
    system = next((name for token, name in SYSTEMS if token in user_agent), None)
    browser = next((name for token, name in BROWSERS if token in user_agent), None)
    if browser is None and "Safari/" in user_agent and system in ("iOS", "iPadOS", "macOS"):
        browser = "Safari"
    if browser is None:
        if user_agent.startswith("Mozilla/"):
            browser = "A browser"
        else:
            product = PRODUCT.match(user_agent)
            browser = product.group(0) if product else "Unknown browser"
    return f"{browser} on {system}" if system else browser
