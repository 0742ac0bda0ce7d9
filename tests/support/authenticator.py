"""A software WebAuthn authenticator for HTTP-level tests: it answers the options the server sends as a browser
and a platform authenticator would (W3C WebAuthn Level 2 §6.1 authenticator data, §6.5 attested credential data,
"none" attestation §8.7, an ES256 key), and can be made to lie: another key's signature, no user verification, a
counter that does not grow, another origin. The browser tests use Chromium's own virtual authenticator instead.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os

import cbor2
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

UP, UV, AT = 0x01, 0x04, 0x40


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class SoftAuthenticator:
    def __init__(self, origin: str):
        self.origin = origin
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.credential_id = os.urandom(32)
        self.sign_count = 0
        self.user_handle: str | None = None
        self.rp_id: str | None = None

    def _client_data(self, kind: str, challenge: str, origin: str | None) -> bytes:
        return json.dumps({"type": kind, "challenge": challenge, "origin": origin or self.origin,
                           "crossOrigin": False}).encode()

    def create(self, options: dict, *, origin: str | None = None, verified: bool = True) -> str:
        """``navigator.credentials.create``: a new discoverable credential for ``options["user"]`` (``verified``
        False: the UV flag unset, an authenticator that checked no PIN or biometric)."""
        self.rp_id = options["rp"]["id"]
        self.user_handle = options["user"]["id"]
        numbers = self.key.public_key().public_numbers()
        cose = {1: 2, 3: -7, -1: 1, -2: numbers.x.to_bytes(32, "big"), -3: numbers.y.to_bytes(32, "big")}
        attested = bytes(16) + len(self.credential_id).to_bytes(2, "big") + self.credential_id + cbor2.dumps(cose)
        auth_data = (hashlib.sha256(self.rp_id.encode()).digest() + bytes([UP | (UV if verified else 0) | AT])
                     + self.sign_count.to_bytes(4, "big") + attested)
        client_data = self._client_data("webauthn.create", options["challenge"], origin)
        return json.dumps({
            "id": b64(self.credential_id), "rawId": b64(self.credential_id), "type": "public-key",
            "response": {"clientDataJSON": b64(client_data),
                         "attestationObject": b64(cbor2.dumps({"fmt": "none", "attStmt": {}, "authData": auth_data})),
                         "transports": ["internal"]},
            "clientExtensionResults": {}})

    def get(self, options: dict, *, verified: bool = True, count: int | None = None, origin: str | None = None,
            signer: ec.EllipticCurvePrivateKey | None = None) -> str:
        """``navigator.credentials.get``: an assertion over ``options["challenge"]``, the counter one higher
        (or ``count``), signed with this credential's key (or ``signer``: a forgery)."""
        self.sign_count = self.sign_count + 1 if count is None else count
        auth_data = (hashlib.sha256(options["rpId"].encode()).digest() + bytes([UP | (UV if verified else 0)])
                     + self.sign_count.to_bytes(4, "big"))
        client_data = self._client_data("webauthn.get", options["challenge"], origin)
        signature = (signer or self.key).sign(auth_data + hashlib.sha256(client_data).digest(),
                                              ec.ECDSA(hashes.SHA256()))
        return json.dumps({
            "id": b64(self.credential_id), "rawId": b64(self.credential_id), "type": "public-key",
            "response": {"clientDataJSON": b64(client_data), "authenticatorData": b64(auth_data),
                         "signature": b64(signature), "userHandle": self.user_handle},
            "clientExtensionResults": {}})
