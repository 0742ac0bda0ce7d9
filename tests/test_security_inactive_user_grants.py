"""An account that is no longer active gets no more tokens from any grant (issue 12, item 2).

Once an administrator sets a user's ``status`` to ``INACTIVE`` (``PUT /api/1.0/users/{id}``), or
deletes them, every grant refuses with ``invalid_grant`` and no ``id_token`` is issued: a refresh
token issued before (RFC 6749 §6, §5.2), an authorization code issued before (RFC 6749 §4.1.3;
OpenID Connect Core §3.1.3.3), an approved device code (RFC 8628 §3.5) and the password grant
(RFC 6749 §4.3.2). Each test credential is obtained while the user is active and presented only
after the change, so what is proven is the grant's own refusal, whatever else the change revokes.
"""

from __future__ import annotations

import pytest
import requests

from support import (
    Browser,
    assert_token_error,
    exchange_code,
    get_code,
    password_grant,
    refresh,
    token_request,
    unique,
    user_via_api,
)

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
ENDINGS = ["inactive", "deleted"]


@pytest.fixture(scope="module")
def app(server):
    return server.create_client(redirect_uris=[f"https://{unique('gone')}.example.org/cb"],
                                grants=["authorization_code", "refresh_token", "password", "device_code"])


def end_account(admin, user, how: str) -> None:
    """What an administrator does through the API: deactivate or delete the user."""
    if how == "inactive":
        assert admin.ok("PUT", f"/users/{user.id}", json={"status": "INACTIVE"})["status"] == "INACTIVE"
    else:
        admin.ok("DELETE", f"/users/{user.id}", 204)


def assert_refused_without_tokens(response: requests.Response) -> None:
    body = assert_token_error(response, "invalid_grant")
    assert not {"access_token", "refresh_token", "id_token"} & set(body), body


@pytest.mark.parametrize("how", ENDINGS)
def test_refresh_token_of_ended_account_is_invalid_grant_rfc6749_6(server, admin, app, how):
    user = user_via_api(admin)
    code = get_code(server, app, user, scope="openid offline_access users:read")
    issued = exchange_code(server, app, code)
    assert issued.status_code == 200 and "id_token" in issued.json(), issued.text
    end_account(admin, user, how)
    assert_refused_without_tokens(refresh(server, app, issued.json()["refresh_token"]))


@pytest.mark.parametrize("how", ENDINGS)
def test_code_issued_before_is_invalid_grant_without_id_token_rfc6749_4_1_3_oidc_core_3_1_3_3(
        server, admin, app, how):
    user = user_via_api(admin)
    code = get_code(server, app, user, scope="openid users:read", nonce=unique("n"))
    end_account(admin, user, how)
    assert_refused_without_tokens(exchange_code(server, app, code))


def approved_device_code(server, client, user) -> str:
    started = requests.post(server.url("/oauth/device"), data={"scope": "users:read"}, auth=client.basic, timeout=10)
    assert started.status_code == 200, started.text
    body = started.json()
    browser = Browser(server)
    browser.login(user)
    page = browser.get("/device?user_code=" + body["user_code"])
    assert page.status_code == 200, page.text[:500]
    decided = browser.post("/device", data={**browser.single_form(page).fields(), "decision": "approve"})
    assert decided.status_code == 200 and "Device connected" in decided.text, decided.text[:500]
    return body["device_code"]


@pytest.mark.parametrize("how", ENDINGS)
def test_approved_device_code_of_ended_account_is_invalid_grant_rfc8628_3_5(server, admin, app, how):
    user = user_via_api(admin)
    device_code = approved_device_code(server, app, user)
    end_account(admin, user, how)
    poll = token_request(server, {"grant_type": DEVICE_GRANT, "device_code": device_code}, auth=app.basic)
    assert_refused_without_tokens(poll)


@pytest.mark.parametrize("how", ENDINGS)
def test_password_grant_for_ended_account_is_invalid_grant_rfc6749_4_3_2(server, admin, app, how):
    user = user_via_api(admin)
    assert password_grant(server, app, user).status_code == 200
    end_account(admin, user, how)
    assert_refused_without_tokens(password_grant(server, app, user))

