"""The permission checkboxes of the user and group admin pages: the catalogue they offer."""

from __future__ import annotations

from authgate.web.admin_lists import ALL


def permission_catalog(rt, s) -> list:
    return rt.permissions.list(s, ALL).items
