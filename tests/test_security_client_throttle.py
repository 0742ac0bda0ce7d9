"""Client throttling at the token endpoint (issue 12 item 5; OWASP API4, RFC 6749 §2.3 and §5.2):
nobody can use up a client's limit but the client itself. The per-client limit
(``AUTHGATE_LIMIT_TOKEN_PER_CLIENT``) counts only requests that authenticated as the client; failed
client authentications are limited per client and address (``AUTHGATE_LIMIT_CLIENT_AUTH_FAILURES_PER_IP``),
so a stranger who fails again and again for a client id is refused, and the real client is not."""

from __future__ import annotations

import pytest

from support import HTTP_TIMEOUT, assert_token_error, from_address, token_request

LIMITS = {"AUTHGATE_LIMIT_TOKEN_PER_CLIENT": "5/60", "AUTHGATE_LIMIT_CLIENT_AUTH_FAILURES_PER_IP": "3/60"}
CC = {"grant_type": "client_credentials"}


@pytest.fixture(scope="module")
def srv(server_factory):
    return server_factory(LIMITS)


def test_failed_authentications_do_not_lock_out_the_real_client_rfc6749_2_3(srv):
    client = srv.create_client(grants=["client_credentials"])
    stranger = from_address("127.0.0.2")
    answers = [stranger.post(srv.url("/oauth/token"), data=CC, auth=(client.client_id, "wrong-secret"),
                             timeout=HTTP_TIMEOUT) for _ in range(8)]
    for _ in range(5):
        r = token_request(srv, CC, auth=client.basic)
        assert r.status_code == 200, f"the real client is locked out by a stranger's failures: {r.text}"
    assert [r.status_code for r in answers] == [401] * 3 + [429] * 5, [r.text for r in answers]
    refused = assert_token_error(answers[-1], "too_many_requests", 429)
    assert refused["error_description"]
    assert int(answers[-1].headers["Retry-After"]) > 0


def test_failures_in_the_form_body_count_the_same_rfc6749_2_3_1(srv):
    client = srv.create_client(grants=["client_credentials"])
    stranger = from_address("127.0.0.3")
    body = {**CC, "client_id": client.client_id, "client_secret": "wrong-secret"}
    statuses = [stranger.post(srv.url("/oauth/token"), data=body, timeout=HTTP_TIMEOUT).status_code for _ in range(6)]
    assert statuses == [401] * 3 + [429] * 3
    assert token_request(srv, CC, auth=client.basic).status_code == 200
    assert token_request(srv, CC, auth=(client.client_id, "wrong-secret")).status_code == 401, \
        "the failure count is per address: the real client's address has its own"


def test_the_per_client_limit_still_holds_for_the_authenticated_client(srv):
    client = srv.create_client(grants=["client_credentials"])
    statuses = [token_request(srv, CC, auth=client.basic).status_code for _ in range(6)]
    assert statuses == [200] * 5 + [429]
    elsewhere = from_address("127.0.0.4").post(srv.url("/oauth/token"), data=CC, auth=client.basic,
                                               timeout=HTTP_TIMEOUT)
    assert_token_error(elsewhere, "too_many_requests", 429)


def test_a_public_clients_limit_is_per_address_rfc8252_8_4(srv):
    """A public client has no secret: anyone can send its client_id, so its count is per client and
    address, and a stranger's requests never refuse the app on the user's own machine."""
    public = srv.create_client(grants=["authorization_code"], public=True, redirect_uris=["http://127.0.0.1/cb"])
    stranger = from_address("127.0.0.5")
    body = {"grant_type": "authorization_code", "client_id": public.client_id, "code": "forged",
            "redirect_uri": "http://127.0.0.1/cb", "code_verifier": "v" * 43}
    statuses = [stranger.post(srv.url("/oauth/token"), data=body, timeout=HTTP_TIMEOUT).status_code for _ in range(7)]
    assert statuses == [400] * 5 + [429] * 2
    assert_token_error(token_request(srv, body), "invalid_grant")
