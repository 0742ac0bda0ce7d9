"""Headers the caller controls do not reach the output (issue 12, item 13).

- Every URL authgate writes is built from ``AUTHGATE_ISSUER``: a forged ``Host``,
  ``X-Forwarded-Proto`` or ``X-Forwarded-Host`` changes neither ``meta.path`` in a list
  (ProcessMaker's envelope) nor where a redirect points.
- ``X-Forwarded-For`` is believed only from a peer in ``AUTHGATE_TRUSTED_PROXIES`` (none by
  default), so a local process cannot pick its own address for the audit log or the per-IP limits
  (RFC 7239 §8.3: a forwarded address is only as good as the proxy that wrote it); from a
  trusted proxy, the address it forwards is the client's.
"""

from __future__ import annotations

import subprocess
import sys

import pytest
import requests

from support import HTTP_TIMEOUT, admin_api, one_line_error, token_request, unique, user_via_api

FORGED = {"Host": "evil.example:8443", "X-Forwarded-Proto": "https", "X-Forwarded-Host": "evil.example"}
LIMITED = {"AUTHGATE_LIMIT_TOKEN_PER_IP": "3/60"}
LISTS = ["/users", "/groups", "/deleted_users", "/permissions", "/oauth/clients", "/security_logs",
         "/users/me/authorizations", "/users/{me}/tokens", "/groups/{group}/users"]


@pytest.fixture(scope="module")
def direct(server_factory):
    """Low per-IP limit, no trusted proxy (the default)."""
    return server_factory(LIMITED)


@pytest.fixture(scope="module")
def proxied(server_factory):
    """The same limit behind a proxy on 127.0.0.1 that authgate is told to trust."""
    return server_factory({**LIMITED, "AUTHGATE_TRUSTED_PROXIES": "127.0.0.1, 10.0.0.0/8"})


def list_paths(admin) -> list[str]:
    me = admin.ok("GET", "/users/me")["id"]
    group = admin.ok("POST", "/groups", 201, json={"name": unique("group")})["id"]
    return [path.format(me=me, group=group) for path in LISTS]


@pytest.mark.parametrize("which", ["direct", "proxied"])
def test_forged_host_and_forwarded_proto_do_not_change_meta_path(request, which):
    srv = request.getfixturevalue(which)
    admin = admin_api(srv)
    for path in list_paths(admin):
        body = admin.ok("GET", path + "?per_page=1", headers=FORGED)
        assert body["meta"]["path"] == srv.issuer + "/api/1.0" + path, (path, body["meta"])


@pytest.mark.parametrize("path", ["/api/1.0/users/", "/static", "/oauth/token/"])
def test_no_redirect_points_where_the_host_header_says(server, admin, path):
    r = requests.get(server.url(path), headers={**FORGED, "Authorization": f"Bearer {admin.token}"},
                     allow_redirects=False, timeout=HTTP_TIMEOUT)
    assert "evil.example" not in r.headers.get("Location", ""), r.headers
    assert r.status_code in (404, 405), r.status_code


def audited_address(admin, forwarded_for: str) -> str:
    """Make a personal access token with ``X-Forwarded-For`` set; the address its audit event records."""
    user = user_via_api(admin)
    made = admin.ok("POST", f"/users/{user.id}/tokens", 201, json={"name": unique("pat")},
                    headers={"X-Forwarded-For": forwarded_for})
    events = admin.ok("GET", "/security_logs?per_page=100&order_by=id&order_direction=desc&filter=personal_token")
    event = next(e for e in events["data"] if e["event"] == "personal_token.created"
                 and e["subject"] == str(made["token"]["id"]))
    return event["ip"]


def test_forged_forwarded_for_from_loopback_is_not_the_audited_address(direct):
    assert audited_address(admin_api(direct), "203.0.113.7") == "127.0.0.1"


def client_credentials(srv, client, forwarded_for: str) -> requests.Response:
    return token_request(srv, {"grant_type": "client_credentials"}, auth=client.basic,
                         headers={"X-Forwarded-For": forwarded_for})


def test_forged_forwarded_for_does_not_escape_the_per_ip_limit_rfc6585_4(direct):
    client = direct.create_client(grants=["client_credentials"])
    for i in range(3):
        assert client_credentials(direct, client, f"198.51.100.{i}").status_code == 200
    refused = client_credentials(direct, client, "198.51.100.99")
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0


def test_a_trusted_proxys_forwarded_for_is_the_clients_address(proxied):
    assert audited_address(admin_api(proxied), "203.0.113.7") == "203.0.113.7"
    assert audited_address(admin_api(proxied), "203.0.113.8, 10.1.2.3") == "203.0.113.8"
    assert audited_address(admin_api(proxied), "x" * 300 + ", 10.1.2.3") == "x" * 64, "fits the audit log"
    client = proxied.create_client(grants=["client_credentials"])
    for _ in range(3):
        assert client_credentials(proxied, client, "198.51.100.1").status_code == 200
    assert client_credentials(proxied, client, "198.51.100.1").status_code == 429
    assert client_credentials(proxied, client, "198.51.100.2").status_code == 200


def test_trusted_proxies_must_be_addresses_or_networks(server):
    env = {**server.env, "AUTHGATE_TRUSTED_PROXIES": "10.0.0.1, proxy.example"}
    proc = subprocess.run([sys.executable, "-m", "authgate", "serve", "--port", "1"], env=env, capture_output=True,
                          text=True, timeout=60, cwd=server.workdir)
    line = one_line_error(proc)
    assert "AUTHGATE_TRUSTED_PROXIES" in line and "proxy.example" in line
