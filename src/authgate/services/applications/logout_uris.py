"""The sign-out addresses a client registers: ``post_logout_redirect_uris`` (OpenID RP-Initiated Logout 1.0 §3.1:
where the browser may go back after signing out, matched exactly), ``backchannel_logout_uri`` and
``backchannel_logout_session_required`` (Back-Channel Logout 1.0 §2.2: where logout tokens are posted, and whether
the client needs ``sid`` in them).

A back-channel URI must be https, or http on a loopback host (a relying party on the same machine): a logout token
says who signed out, and travels server to server with no browser to notice a downgrade. It must not hold a
fragment (§2.2). The same check runs again before each delivery."""

from __future__ import annotations

from urllib.parse import urlsplit

from authgate.services.errors import Invalid
from authgate.storage.models import Client

FIELDS = ("post_logout_redirect_uris", "backchannel_logout_uri", "backchannel_logout_session_required")
LOOPBACK_HOSTS = ("127.0.0.1", "::1", "localhost")
MAX_URIS = 50


def deliverable(uri: str | None) -> bool:
    """Whether logout tokens may be posted to ``uri``: https, or http to a loopback host; no fragment."""
    if not isinstance(uri, str) or not uri or len(uri) > 2000 or "#" in uri:
        return False
    try:
        parts = urlsplit(uri)
        host = parts.hostname
        parts.port
    except ValueError:
        return False
    return bool(host) and (parts.scheme == "https" or (parts.scheme == "http" and host in LOOPBACK_HOSTS))


def _check_post_logout(uris) -> list[str]:
    from authgate.services.applications.clients import check_redirect_uri

    if not isinstance(uris, (list, tuple)) or len(uris) > MAX_URIS:
        raise Invalid(f"post_logout_redirect_uris must be a list of at most {MAX_URIS} URLs",
                      field="post_logout_redirect_uris")
    for uri in uris:
        try:
            check_redirect_uri(uri)
        except Invalid as error:
            raise Invalid(str(error).replace("redirect URI", "post-logout redirect URI"),
                          field="post_logout_redirect_uris") from None
    return list(dict.fromkeys(uris))


def apply_logout_fields(client: Client, values: dict) -> None:
    """Set those of ``FIELDS`` present in ``values`` (an empty or None URI clears it), refusing bad ones."""
    if "post_logout_redirect_uris" in values:
        client.post_logout_redirect_uris = _check_post_logout(values["post_logout_redirect_uris"] or [])
    if "backchannel_logout_uri" in values:
        uri = values["backchannel_logout_uri"] or None
        if uri is not None and not deliverable(uri):
            raise Invalid(f"backchannel_logout_uri {uri!r} must be an https URL (or http on a loopback host) "
                          "without a fragment", field="backchannel_logout_uri")
        client.backchannel_logout_uri = uri
    if "backchannel_logout_session_required" in values:
        client.backchannel_logout_session_required = bool(values["backchannel_logout_session_required"])


def logout_view(client: Client) -> dict:
    return {
        "post_logout_redirect_uris": list(client.post_logout_redirect_uris or []),
        "backchannel_logout_uri": client.backchannel_logout_uri,
        "backchannel_logout_session_required": bool(client.backchannel_logout_session_required),
    }
