"""The grant registry (issue 13 item 3): a grant is one module and one registration line.

A throwaway grant, declared here, is registered with ``registry.register`` and nothing else; the
app is ``create_app()`` served by uvicorn in this process (as in test_sql_statement_budget.py), so
the registration reaches it. Everything that names grants must then know it without being edited:
the metadata (RFC 8414 §2 ``grant_types_supported``), the token endpoint (RFC 6749 §4.5, extension
grants by absolute URI), the client service and the CLI that register clients, the admin pages and
the metrics.
"""

from __future__ import annotations

import pytest
import requests
from authlib.oauth2.rfc6749 import grants

from authgate.oauth.grants import registry
from authgate.oauth.grants.base import AuthgateGrant
from authgate.services.applications.grant_types import GrantSpec
from support import Api, Browser, assert_token_error, jwt_parts, parse_page, token_request, unique
from test_sql_statement_budget import InProcessServer

URN = "urn:example:params:oauth:grant-type:test-echo"


class EchoGrant(AuthgateGrant, grants.ClientCredentialsGrant):
    """A client asks for a token for itself under a grant type of its own (RFC 6749 §4.5)."""

    SPEC = GrantSpec("test_echo", "Test echo", urn=URN)
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]

    def token_family(self, user, scope):
        return None


@pytest.fixture(scope="module")
def app_server(tmp_path_factory):
    registry.register(EchoGrant)
    try:
        srv = InProcessServer(tmp_path_factory.mktemp("registry")).start()
        try:
            yield srv
        finally:
            srv.stop()
    finally:
        registry.unregister(EchoGrant)


def test_registered_grant_is_in_the_metadata_rfc8414_2(app_server):
    for path in ("/.well-known/oauth-authorization-server", "/.well-known/openid-configuration"):
        meta = requests.get(app_server.url(path), timeout=5).json()
        assert URN in meta["grant_types_supported"], path
        assert "authorization_code" in meta["grant_types_supported"]


def test_registered_grant_works_at_the_token_endpoint_rfc6749_4_5(app_server):
    client = app_server.create_client(grants=["test_echo"], scopes=["users:read"])
    assert client.data["grants"] == ["test_echo"]
    r = token_request(app_server, {"grant_type": URN, "scope": "users:read"}, auth=client.basic)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["token_type"] == "Bearer" and body["access_token"].count(".") == 2
    assert body["scope"] == "users:read" and "refresh_token" not in body
    metrics = requests.get(app_server.url("/metrics"), timeout=5).text
    assert f'authgate_tokens_issued_total{{grant="{URN}"}}' in metrics


def test_registered_grant_gets_the_servers_access_tokens_rfc9068_2(app_server):
    """The grant issues through the server's one token generator: the same header and claims as a
    built-in grant's (RFC 9068 §2.1-2.2), the same audit row, with nothing of its own to write."""
    client = app_server.create_client(grants=["test_echo", "client_credentials"], scopes=["users:read"])
    tokens = {}
    for grant_type in (URN, "client_credentials"):
        r = token_request(app_server, {"grant_type": grant_type, "scope": "users:read"}, auth=client.basic)
        assert r.status_code == 200, r.text
        tokens[grant_type] = jwt_parts(r.json()["access_token"])
    (echo_header, echo_claims), (cc_header, cc_claims) = tokens[URN], tokens["client_credentials"]
    assert echo_header == cc_header and echo_header["typ"] == "at+jwt"
    assert set(echo_claims) == set(cc_claims)
    assert echo_claims["sub"] == echo_claims["client_id"] == client.client_id
    assert echo_claims["aud"] == cc_claims["aud"] and echo_claims["scope"] == "users:read"
    admin = app_server.create_user(admin=True)
    logs = Api(app_server, app_server.create_pat(admin.username)["token"]).ok(
        "GET", "/security_logs?per_page=100&order_direction=desc")["data"]
    issued = [e["details"] for e in logs if e["event"] == "token.issued" and e["client_id"] == client.client_id]
    assert {"grant_type": URN, "scope": "users:read", "refresh_token": False} in issued, issued


def test_a_client_without_the_registered_grant_may_not_use_it_rfc6749_5_2(app_server):
    client = app_server.create_client(grants=["client_credentials"])
    assert_token_error(token_request(app_server, {"grant_type": URN}, auth=client.basic), "unauthorized_client")
    assert token_request(app_server, {"grant_type": "client_credentials"}, auth=client.basic).status_code == 200


def test_registered_grant_is_offered_by_the_api_and_the_admin_pages(app_server):
    admin = app_server.create_user(admin=True)
    api = Api(app_server, app_server.create_pat(admin.username, scopes=["clients:write", "clients:read"])["token"])
    refused = api.post("/oauth/clients", json={"name": unique("svc"), "types": ["test_echo", "test_nothing"]})
    assert refused.status_code == 422, refused.text
    assert "unknown grant: test_nothing" in refused.text and "test_echo" in refused.text  # in the choices
    made = api.ok("POST", "/oauth/clients", 201, json={"name": unique("svc"), "types": ["test_echo"]})
    assert made["types"] == ["test_echo"]
    browser = Browser(app_server)
    browser.login(admin)
    form = browser.get("/admin/auth-clients/new")
    assert form.status_code == 200
    boxes = [i for f in parse_page(form.text).forms for i in f.inputs if i.get("name") == "grants"]
    assert "test_echo" in [i.get("value") for i in boxes] and "Test echo" in form.text
    listed = browser.get("/admin/auth-clients?q=" + made["name"])
    assert listed.status_code == 200 and "Test echo" in listed.text
