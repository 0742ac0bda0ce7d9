"""Client authentication at the token endpoint (RFC 6749 §2.3.1), plus the guide's secret-only form.

ProcessMaker's Python guide builds its password request with oauthlib's LegacyApplicationClient,
which drops ``client_id`` and sends only ``client_secret``. Client secrets are unique and stored
by keyed hash, so the client can be found by its secret alone.
"""

from __future__ import annotations

from authlib.oauth2.rfc6749.authenticate_client import authenticate_client_secret_post


def secret_post_or_secret_only(find_by_secret):
    """``client_secret_post``, also accepting a body with ``client_secret`` and no ``client_id``."""

    def authenticate(query_client, request):
        secret = request.form.get("client_secret")
        if secret and not request.form.get("client_id"):
            return find_by_secret(request, secret)
        return authenticate_client_secret_post(query_client, request)

    return authenticate
