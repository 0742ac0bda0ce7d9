"""Client authentication at the token endpoint (RFC 6749 §2.3.1), plus the guide's secret-only form.

ProcessMaker's Python guide builds its password request with oauthlib's LegacyApplicationClient,
which drops ``client_id`` and sends only ``client_secret``. Client secrets are unique and stored
by keyed hash, so the client can be found by its secret alone.

``basic_credentials`` is the one reader of ``Authorization: Basic``: Authlib's own lets a
``UnicodeDecodeError`` escape for bytes that are not UTF-8, and passes on a percent-encoded NUL that
PostgreSQL text cannot hold; here both are a failed client authentication.
"""

from __future__ import annotations

import base64
import binascii
from urllib.parse import unquote

from authlib.oauth2.rfc6749 import InvalidClientError
from authlib.oauth2.rfc6749.authenticate_client import authenticate_client_secret_post

MALFORMED = "The Authorization header is not HTTP Basic credentials (base64 of UTF-8 client_id:client_secret)."


def basic_credentials(headers) -> tuple[str | None, str | None]:
    """``(client_id, client_secret)`` of a Basic header, each form-decoded (RFC 6749 §2.3.1); ``(None, None)``
    without one. Raises ``InvalidClientError`` (401) for a header that cannot be read."""
    auth = headers.get("Authorization") or ""
    scheme, _, encoded = auth.strip().partition(" ")
    if scheme.lower() != "basic":
        return None, None
    try:
        client_id, colon, secret = base64.b64decode(encoded.strip(), validate=True).decode("utf-8").partition(":")
        client_id, secret = unquote(client_id, errors="strict"), unquote(secret, errors="strict")
    except (binascii.Error, UnicodeDecodeError):
        raise InvalidClientError(status_code=401, description=MALFORMED) from None
    if "\x00" in client_id + secret:
        raise InvalidClientError(status_code=401, description=MALFORMED)
    return client_id, secret if colon else None


def authenticate_basic(query_client, request):
    """``client_secret_basic`` (RFC 6749 §2.3.1) over ``basic_credentials``."""
    client_id, secret = basic_credentials(request.headers)
    if not (client_id and secret):
        return None
    client = query_client(client_id)
    if client is None:
        raise InvalidClientError(status_code=401, description="The client does not exist on this server.")
    return client if client.check_client_secret(secret) else None


def secret_post_or_secret_only(find_by_secret):
    """``client_secret_post``, also accepting a body with ``client_secret`` and no ``client_id``."""

    def authenticate(query_client, request):
        secret = request.form.get("client_secret")
        if secret and not request.form.get("client_id"):
            return find_by_secret(request, secret)
        return authenticate_client_secret_post(query_client, request)

    return authenticate
