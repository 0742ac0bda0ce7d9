"""The Python client's device flow (RFC 8628) against the server: the user code and the verification
URI are shown (§3.3), a person approves on the server's page, and the client's polling at the
server's interval (§3.4-3.5) ends with tokens — or with ``AccessDenied`` when the person declines.
"""

from __future__ import annotations

import io
import json
import re
import threading

import pytest

from authgate_client import AccessDenied, Client
from client_support import approve_device, wait_until
from support import users_me

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"


@pytest.fixture(scope="module")
def user(server):
    return server.create_user()


def device_client(server, public: bool = True):
    """A client registered for the device grant (under its URN, or authgate's short name)."""
    last = None
    for grant in (DEVICE_GRANT, "device_code"):
        proc = server.cli("clients", "create", "--name", "device app", "--grant", grant, "--json",
                          *(["--public"] if public else []))
        if proc.returncode == 0:
            return json.loads(proc.stdout)
        last = proc.stderr
    raise AssertionError(f"cannot register a client for the device grant: {last}")


def test_device_flow_end_to_end_rfc8628_3(server, user, tmp_path):
    app = device_client(server)
    out = io.StringIO()
    client = Client(server.issuer, app["client_id"], scopes=["users:read"], cache_dir=tmp_path, out=out)
    approved: list = []

    def person() -> None:
        try:
            assert wait_until(lambda: re.search(r"enter the code:\s+(\S+)", out.getvalue()), timeout=30)
            text = out.getvalue()
            code = re.search(r"enter the code:\s+(\S+)", text).group(1)
            uri = re.search(r"open (\S+) and enter", text).group(1)
            approved.append(approve_device(server, user, code, uri))
        except BaseException as error:  # reported by the test below, not lost in the thread
            approved.append(error)

    helper = threading.Thread(target=person)
    helper.start()
    try:
        tokens = client.login_device(show_qr=False, timeout=60)
    finally:
        helper.join(30)
    assert approved and not isinstance(approved[0], BaseException), approved
    assert tokens.grant == DEVICE_GRANT
    assert users_me(server, tokens.access_token).json()["username"] == user.username
    assert client.get("/api/1.0/users/me").status_code == 200


def test_declined_device_raises_access_denied_rfc8628_3_5(server, user, tmp_path):
    app = device_client(server)
    client = Client(server.issuer, app["client_id"], scopes=["users:read"], cache_dir=tmp_path, out=io.StringIO())
    shown = []

    def on_code(device) -> None:
        shown.append(device)
        assert device.user_code and device.verification_uri.startswith(server.issuer)
        assert device.interval >= 1 and device.expires_in > 0
        approve_device(server, user, device.user_code, device.verification_uri, decision="deny")

    with pytest.raises(AccessDenied) as caught:
        client.login_device(on_code=on_code, timeout=60)
    assert shown and caught.value.error == "access_denied"
    assert client.tokens is None
