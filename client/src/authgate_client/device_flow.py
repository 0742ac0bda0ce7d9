"""The device authorization grant (RFC 8628): ask for a user code, show it with the verification URL
(and a QR code when ``segno`` is installed), and poll the token endpoint at the server's interval,
five seconds slower after each ``slow_down`` (§3.5)."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TextIO

from authgate_client.errors import (
    AuthorizationPending,
    AuthorizationTimeout,
    ExpiredToken,
    ServerError,
    SlowDown,
)
from authgate_client.progress import Progress, isatty
from authgate_client.responses import error_from, json_body
from authgate_client.tokens import TokenSet

if TYPE_CHECKING:
    from authgate_client.client import Client

GRANT = "urn:ietf:params:oauth:grant-type:device_code"
DEFAULT_INTERVAL = 5
SLOW_DOWN_STEP = 5


@dataclass(frozen=True)
class DeviceAuthorization:
    """The device authorization response (RFC 8628 §3.2)."""

    device_code: str
    user_code: str
    verification_uri: str
    verification_uri_complete: str | None
    expires_in: int
    interval: int

    @classmethod
    def from_response(cls, body: Any) -> "DeviceAuthorization":
        if not isinstance(body, dict) or not all(body.get(k) for k in ("device_code", "user_code", "verification_uri")):
            raise ServerError(f"the device authorization response lacks device_code, user_code or verification_uri: {body!r:.200}")
        return cls(
            device_code=str(body["device_code"]),
            user_code=str(body["user_code"]),
            verification_uri=str(body["verification_uri"]),
            verification_uri_complete=body.get("verification_uri_complete"),
            expires_in=int(body.get("expires_in") or 600),
            interval=int(body.get("interval") or DEFAULT_INTERVAL),
        )


def show(device: DeviceAuthorization, out: TextIO, qr: bool = True) -> None:
    print(f"To sign in, open {device.verification_uri} and enter the code:\n\n    {device.user_code}\n", file=out)
    if device.verification_uri_complete:
        print(f"Or open {device.verification_uri_complete}", file=out)
        if qr and isatty(out):
            _print_qr(device.verification_uri_complete, out)
    out.flush()


def _print_qr(uri: str, out: TextIO) -> None:
    try:
        import segno
    except ImportError:
        return
    try:
        segno.make(uri, error="l").terminal(out=out, compact=True)
    except (UnicodeError, OSError):
        pass


def request_authorization(client: "Client") -> DeviceAuthorization:
    url = client.metadata.endpoint("device_authorization_endpoint")
    response = client._post(url, {"scope": client.scope} if client.scope else {})
    if response.status_code == 200:
        return DeviceAuthorization.from_response(json_body(response))
    raise error_from(response, "device authorization endpoint (RFC 8628)")


def run(client: "Client", *, on_code: Callable[[DeviceAuthorization], None] | None, show_qr: bool,
        timeout: float | None, sleep: Callable[[float], None] = time.sleep) -> TokenSet:
    device = request_authorization(client)
    out = client.out or sys.stderr
    if on_code is not None:
        on_code(device)
    else:
        show(device, out, qr=show_qr)
    deadline = time.monotonic() + min(device.expires_in, timeout if timeout is not None else device.expires_in)
    interval = device.interval
    with Progress("Waiting for the approval", out, client.progress is not False and on_code is None):
        while True:
            sleep(interval)
            if time.monotonic() > deadline:
                if timeout is not None and timeout < device.expires_in:
                    raise AuthorizationTimeout(f"the device was not approved within {timeout:.0f} seconds")
                raise ExpiredToken("expired_token", "the user code expired before it was approved")
            try:
                body = client.token_request({"grant_type": GRANT, "device_code": device.device_code})
            except AuthorizationPending:
                continue
            except SlowDown:
                interval += SLOW_DOWN_STEP
                continue
            return TokenSet.from_response(body, GRANT)
