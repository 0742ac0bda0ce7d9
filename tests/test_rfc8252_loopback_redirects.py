"""Native apps' loopback redirects (RFC 8252 §7.3, §8.3; RFC 9700 §4.1.3): a client registered with
an http loopback IP URI may come back on any port, and only there; everything else about the URI
must match exactly, `localhost` gets no such freedom, and the code is bound to the port used."""

from __future__ import annotations

import pytest

from support import Browser, authorization_params, exchange_code, pkce_pair, query_params, user_via_api


@pytest.fixture
def user_for_consent(admin):
    return user_via_api(admin)


def params_for(client, uri):
    verifier, challenge = pkce_pair()
    return verifier, authorization_params(client, redirect_uri=uri, challenge=challenge)


@pytest.fixture(scope="module")
def native(server):
    return server.create_client(redirect_uris=["http://127.0.0.1/callback", "http://[::1]/cb", "http://localhost/cb"],
                                public=True)


@pytest.mark.parametrize("uri", ["http://127.0.0.1:53682/callback", "http://127.0.0.1:1/callback",
                                 "http://[::1]:8400/cb"])
def test_any_port_on_a_loopback_ip(server, native, user_for_consent, uri):
    location = Browser(server).authorize(params_for(native, uri)[1], user_for_consent)
    assert location.startswith(uri + "?") and "code" in query_params(location)


@pytest.mark.parametrize("uri", [
    "http://localhost:8400/cb",          # §8.3: not localhost
    "http://127.0.0.1:53682/callback/x",  # path differs
    "http://127.0.0.1:53682/callback?x=1",
    "https://127.0.0.1:53682/callback",   # scheme differs
    "http://127.0.0.2:53682/callback",    # another address
    "http://127.0.0.1:99999/callback",    # not a port
])
def test_everything_but_the_port_must_match(server, native, uri):
    r = Browser(server).open_authorize(params_for(native, uri)[1])
    assert r.status_code == 400 and "Location" not in r.headers


def test_the_code_is_bound_to_the_port_used_rfc6749_4_1_3(server, native, user_for_consent):
    used = "http://127.0.0.1:41000/callback"
    verifier, params = params_for(native, used)
    code = query_params(Browser(server).authorize(params, user_for_consent))["code"]
    other_port = exchange_code(server, native, code, redirect_uri="http://127.0.0.1:41001/callback",
                               verifier=verifier)
    assert other_port.status_code == 400 and other_port.json()["error"] == "invalid_grant"
