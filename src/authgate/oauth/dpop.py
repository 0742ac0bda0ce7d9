"""DPoP proofs (RFC 9449): a JWT the client signs with its own key for each request, proving that
whoever presents a token holds the key the token is bound to.

``ProofChecker.check`` runs the checks of §4.3 in order and returns the ``Proof`` (the key's RFC 7638
thumbprint, ``jkt``, is what tokens are bound to, §6) or raises ``DpopError`` with the error code the
answer carries: ``invalid_dpop_proof`` (§5 at the token endpoint, §7.1 as ``invalid_token`` at a
resource) or ``use_dpop_nonce`` (§8, §9: the client is to retry with the ``DPoP-Nonce`` given).
"""

from __future__ import annotations

import base64
import hashlib
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from joserfc import jws, jwt
from joserfc.errors import JoseError
from joserfc.jwk import JWKRegistry
from joserfc.jws import JWSRegistry

PROOF_TYPE = "dpop+jwt"
ALGORITHMS = ("ES256", "ES384", "ES512", "PS256", "PS384", "PS512", "RS256", "RS384", "RS512", "EdDSA")
"""Asymmetric only (§4.2: not ``none``, no MAC): advertised as ``dpop_signing_alg_values_supported``."""
MAX_PROOF_BYTES = 4096
PRIVATE_MEMBERS = ("d", "p", "q", "dp", "dq", "qi", "oth", "k")


class _ProofRegistry(JWSRegistry):
    max_header_length = 2048
    """A proof's header holds its public key: a 4096-bit RSA key is larger than joserfc's default 512 bytes."""


REGISTRY = _ProofRegistry(algorithms=list(ALGORITHMS))


class DpopError(Exception):
    def __init__(self, description: str, error: str = "invalid_dpop_proof"):
        super().__init__(description)
        self.error = error
        self.description = description


@dataclass(frozen=True)
class Proof:
    jkt: str
    """The proof key's JWK SHA-256 thumbprint (RFC 7638), base64url: ``cnf.jkt`` of a bound token."""
    jti: str
    iat: int
    alg: str = ""


def token_hash(access_token: str) -> str:
    """``ath`` (§4.2): base64url of the SHA-256 of the access token's ASCII."""
    digest = hashlib.sha256(access_token.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def target_uri(url: str) -> str:
    """``htu`` as compared (§4.3 step 9, RFC 3986 §6.2.2-6.2.3): no query or fragment, scheme and host in lower
    case, the default port dropped."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if ":" in host:
        host = f"[{host}]"
    scheme = parts.scheme.lower()
    port = parts.port
    if port is not None and (scheme, port) not in (("http", 80), ("https", 443)):
        host = f"{host}:{port}"
    return urlunsplit((scheme, host, parts.path or "/", "", ""))


def _target_or_none(htu: str) -> str | None:
    """``target_uri`` of a proof's ``htu``; None when it is no URL (a port out of range, a broken IPv6 host)."""
    try:
        return target_uri(htu)
    except ValueError:
        return None


class ProofChecker:
    """``first_use(jkt, jti, seconds)`` says whether a ``jti`` is new for that key within ``seconds`` (the
    replay cache, §11.1); ``nonce_ok(value)`` whether a server nonce is current, with ``require_nonce``
    set (§8)."""

    def __init__(self, first_use: Callable[[str, str, int], bool], *, max_age: int = 120, future: int = 30,
                 nonce_ok: Callable[[str], bool] | None = None, require_nonce: bool = False):
        self.first_use = first_use
        self.max_age = max_age
        self.future = future
        self.nonce_ok = nonce_ok
        self.require_nonce = require_nonce

    def check(self, values: list[str], method: str, url: str, *, access_token: str | None = None,
              bound_to: str | None = None) -> Proof:
        if len(values) != 1:
            raise DpopError("Send exactly one DPoP header (RFC 9449 section 4.3).")
        proof = values[0].strip()
        if len(proof) > MAX_PROOF_BYTES:
            raise DpopError("The DPoP proof is too large.")
        header = self._header(proof)
        claims = self._verified_claims(proof, header)
        if claims.get("htm") != method:
            raise DpopError(f"The DPoP proof is for another HTTP method (htm must be {method}).")
        if not isinstance(claims.get("htu"), str) or _target_or_none(claims["htu"]) != target_uri(url):
            raise DpopError("The DPoP proof is for another URL (htu).")
        self._check_nonce(claims.get("nonce"))
        iat = claims.get("iat")
        now = time.time()
        if isinstance(iat, bool) or not isinstance(iat, (int, float)) or not math.isfinite(iat) \
                or iat < now - self.max_age or iat > now + self.future:
            raise DpopError("The DPoP proof was not made just now (iat).")
        if access_token is not None and claims.get("ath") != token_hash(access_token):
            raise DpopError("The DPoP proof is not for this access token (ath).")
        jkt = JWKRegistry.import_key(header["jwk"]).thumbprint()
        if bound_to is not None and jkt != bound_to:
            raise DpopError("The DPoP proof is signed by another key than the one the token is bound to.")
        jti = claims.get("jti")
        if not isinstance(jti, str) or not 0 < len(jti) <= 256:
            raise DpopError("The DPoP proof has no usable jti.")
        if not self.first_use(jkt, jti, self.max_age + self.future):
            raise DpopError("This DPoP proof was used before (jti): make a new one for each request.")
        return Proof(jkt=jkt, jti=jti, iat=int(iat), alg=header["alg"])

    @staticmethod
    def _header(proof: str) -> dict:
        try:
            header = jws.extract_compact(proof.encode("ascii"), registry=REGISTRY).headers()
        except (JoseError, ValueError, UnicodeError):
            raise DpopError("The DPoP header is not a JWT.") from None
        if header.get("typ") != PROOF_TYPE:
            raise DpopError(f"A DPoP proof is typed {PROOF_TYPE} (RFC 9449 section 4.2).")
        if header.get("alg") not in ALGORITHMS:
            raise DpopError("The DPoP proof must be signed with an asymmetric algorithm: " + " ".join(ALGORITHMS) + ".")
        jwk = header.get("jwk")
        if not isinstance(jwk, dict) or any(member in jwk for member in PRIVATE_MEMBERS):
            raise DpopError("The DPoP proof's header must carry the public key (jwk), and nothing private.")
        return header

    @staticmethod
    def _verified_claims(proof: str, header: dict) -> dict:
        try:
            key = JWKRegistry.import_key(header["jwk"])
            claims = jwt.decode(proof, key, algorithms=[header["alg"]], registry=REGISTRY).claims
        except (JoseError, ValueError, TypeError, KeyError):
            raise DpopError("The DPoP proof's signature does not verify with the key in its header.") from None
        if not isinstance(claims, dict):
            raise DpopError("The DPoP proof's claims are not an object.")
        return claims

    def _check_nonce(self, nonce) -> None:
        if not self.require_nonce:
            return
        if not isinstance(nonce, str) or self.nonce_ok is None or not self.nonce_ok(nonce):
            raise DpopError("Use the server's DPoP nonce (the DPoP-Nonce header of this answer).", "use_dpop_nonce")


class Dpop:
    """The server's DPoP checks, over ``memory`` (``services/credentials/dpop_proofs.ProofMemory``): proofs at
    the token endpoint and at the API, where the proof must also name the access token (``ath``) and be signed
    by its key (§7); both ask for server nonces when ``AUTHGATE_DPOP_NONCES`` is set (§8, §9)."""

    def __init__(self, memory, settings):
        self.memory = memory
        self.require_nonce = settings.dpop_nonces
        self.checker = ProofChecker(memory.first_use, max_age=settings.dpop_proof_seconds, nonce_ok=memory.nonce_ok,
                                    require_nonce=settings.dpop_nonces)
        self.resource_checker = ProofChecker(memory.first_use, max_age=settings.dpop_proof_seconds,
                                             nonce_ok=memory.nonce_ok, require_nonce=settings.dpop_nonces)

    def nonce_for(self, error: DpopError) -> str | None:
        """The nonce to send with a refusal: the one to use, when the refusal asks for one."""
        return self.memory.nonce() if error.error == "use_dpop_nonce" else None

    def fresh_nonce(self) -> str | None:
        """A nonce for a successful answer, so that the client's next proof needs no round trip (§8.2)."""
        return self.memory.nonce() if self.require_nonce else None
