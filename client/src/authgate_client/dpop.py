"""DPoP (RFC 9449) for the client: a key of its own (ES256, made once and kept with the tokens it is bound
to), a proof for each token request and each API request, and the server's nonce, remembered when given.
Needs joserfc (``pip install 'authgate-client[dpop]'``)."""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from typing import Any
from urllib.parse import urlsplit, urlunsplit

try:
    from joserfc import jwt
    from joserfc.jwk import ECKey, JWKRegistry
except ImportError as error:  # pragma: no cover - depends on the environment
    raise ImportError("DPoP needs joserfc: pip install 'authgate-client[dpop]'") from error

ALG = "ES256"


class DpopKey:
    def __init__(self, jwk: dict[str, Any] | None = None):
        self.key = JWKRegistry.import_key(jwk) if jwk else ECKey.generate_key("P-256")
        self.nonce: str | None = None
        """The last ``DPoP-Nonce`` the server sent (RFC 9449 §8), put in the next proofs."""

    def to_jwk(self) -> dict[str, Any]:
        """The private key, to keep beside the tokens bound to it."""
        return self.key.as_dict(private=True)

    @property
    def thumbprint(self) -> str:
        return self.key.thumbprint()

    def proof(self, method: str, url: str, access_token: str | None = None) -> str:
        """A proof for ``method url`` (RFC 9449 §4.2), naming ``access_token`` (``ath``) at a resource."""
        parts = urlsplit(url)
        claims: dict[str, Any] = {"jti": secrets.token_urlsafe(16), "htm": method.upper(), "iat": int(time.time()),
                                  "htu": urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))}
        if access_token:
            digest = hashlib.sha256(access_token.encode("ascii")).digest()
            claims["ath"] = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
        if self.nonce:
            claims["nonce"] = self.nonce
        header = {"typ": "dpop+jwt", "alg": ALG, "jwk": self.key.as_dict(private=False)}
        return jwt.encode(header, claims, self.key, algorithms=[ALG])

    def heard(self, headers) -> None:
        """Keep the nonce of an answer's ``DPoP-Nonce`` header, if it has one."""
        nonce = headers.get("dpop-nonce")
        if nonce:
            self.nonce = nonce

