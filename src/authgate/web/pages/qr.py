"""QR codes on pages: drawn on the server as inline SVG, so no script and no inline style are needed (CSP)."""

from __future__ import annotations

import segno
from markupsafe import Markup


def qr_svg(uri: str) -> Markup:
    """The ``otpauth:`` URI as an inline SVG QR code."""
    return Markup(segno.make(uri, error="m").svg_inline(scale=5, border=2, omitsize=False))
