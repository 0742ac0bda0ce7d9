"""The Python client asks the server about a token (RFC 7662 §2.1) as a confidential client:
active with its scope and client while it lives, inactive once revoked (§2.2).
"""

from __future__ import annotations

from authgate_client import Client


def test_introspection_rfc7662_2(server, tmp_path):
    app, user = server.create_client(grants=["password"]), server.create_user()
    client = Client(server.issuer, app.client_id, app.client_secret, scopes=["users:read"], cache_dir=tmp_path)
    tokens = client.login_password(user.username, user.password)

    about = client.introspect(tokens.access_token, "access_token")
    assert about["active"] is True
    assert about["client_id"] == app.client_id and about["scope"] == "users:read"

    client.logout()
    assert client.introspect(tokens.access_token) == {"active": False}
