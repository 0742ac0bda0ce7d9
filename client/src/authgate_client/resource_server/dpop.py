"""DPoP proofs at your resource (RFC 9449 §4.3, §7.1): a token bound to a key (``cnf.jkt`` in the JWT or in
the introspection answer, §6) is taken only as ``Authorization: DPoP`` with a proof, made for this request and
this token, signed by that key.

``ProofVerifier.verify`` runs §4.3's checks: exactly one ``DPoP`` header, ``typ`` ``dpop+jwt``, an asymmetric
``alg`` of those accepted, a public ``jwk`` in the header that verifies the signature, ``htm`` the request's
method, ``htu`` its URL (without query and fragment), ``iat`` within ``max_age`` seconds (and ``future`` ahead),
``ath`` the token's hash, the key's thumbprint the token's ``cnf.jkt``, and a ``jti`` not seen before within the
proof's lifetime (remembered in this process: behind several workers a proof could be replayed once per worker
within that time). Server nonces (§9) are not asked for.
"""

from __future__ import annotations

import base64
import hashlib
import threading
import time
from urllib.parse import urlsplit, urlunsplit

from joserfc import jws, jwt
from joserfc.errors import JoseError
from joserfc.jwk import JWKRegistry
from joserfc.jws import JWSRegistry

from authgate_client.resource_server import refusals

ALGORITHMS = ("ES256", "ES384", "ES512", "PS256", "PS384", "PS512", "RS256", "RS384", "RS512", "EdDSA")
"""Asymmetric only (§4.2)."""
PROOF_TYPE = "dpop+jwt"
MAX_PROOF_BYTES = 4096
PRIVATE_MEMBERS = ("d", "p", "q", "dp", "dq", "qi", "oth", "k")
MAX_REMEMBERED = 100_000


class _ProofRegistry(JWSRegistry):
    max_header_length = 2048
    """A proof's header holds its public key: an RSA key is larger than joserfc's default 512 bytes."""


def token_hash(access_token: str) -> str:
    """``ath`` (§4.2): base64url of the SHA-256 of the access token."""
    return base64.urlsafe_b64encode(hashlib.sha256(access_token.encode("ascii")).digest()).rstrip(b"=").decode()


def target_uri(url: str) -> str:
    """``htu`` as compared (§4.3 step 9, RFC 3986 §6.2.2-6.2.3): no query or fragment, scheme and host in lower
    case, the default port dropped."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if ":" in host:
        host = f"[{host}]"
    scheme = parts.scheme.lower()
    if parts.port is not None and (scheme, parts.port) not in (("http", 80), ("https", 443)):
        host = f"{host}:{parts.port}"
    return urlunsplit((scheme, host, parts.path or "/", "", ""))


class ReplayMemory:
    """The ``jti``s seen per key, each until its proof could no longer be taken (§11.1), in this process."""

    def __init__(self):
        self._seen: dict[tuple[str, str], float] = {}
        self._lock = threading.Lock()

    def first_use(self, jkt: str, jti: str, seconds: float) -> bool:
        now = time.monotonic()
        with self._lock:
            if len(self._seen) >= MAX_REMEMBERED:
                self._seen = {k: until for k, until in self._seen.items() if until > now}
            until = self._seen.get((jkt, jti))
            if until is not None and until > now:
                return False
            self._seen[(jkt, jti)] = now + seconds
            return True


class ProofVerifier:
    def __init__(self, algorithms=ALGORITHMS, max_age: int = 120, future: int = 30):
        self.algorithms = tuple(algorithms)
        self.max_age = max_age
        self.future = future
        self.memory = ReplayMemory()
        self._registry = _ProofRegistry(algorithms=list(self.algorithms))

    def verify(self, proofs: list[str], method: str, url: str, access_token: str, jkt: str) -> None:
        """Raise ``TokenRefused`` (401 ``invalid_dpop_proof``, DPoP challenge) unless the proof is good."""
        if len(proofs) != 1:
            raise refusals.bad_proof("Send exactly one DPoP header with the DPoP-bound token (RFC 9449 section 4.3).")
        proof = proofs[0].strip()
        if len(proof) > MAX_PROOF_BYTES:
            raise refusals.bad_proof("The DPoP proof is too large.")
        header = self._header(proof)
        try:
            key = JWKRegistry.import_key(header["jwk"])
            claims = jwt.decode(proof, key, algorithms=[header["alg"]], registry=self._registry).claims
        except (JoseError, ValueError, TypeError, KeyError):
            raise refusals.bad_proof("The DPoP proof's signature does not verify with the key in its header.") from None
        if claims.get("htm") != method.upper():
            raise refusals.bad_proof(f"The DPoP proof is for another HTTP method (htm must be {method.upper()}).")
        if not isinstance(claims.get("htu"), str) or target_uri(claims["htu"]) != target_uri(url):
            raise refusals.bad_proof("The DPoP proof is for another URL (htu).")
        iat = claims.get("iat")
        now = time.time()
        if not isinstance(iat, (int, float)) or isinstance(iat, bool) or not now - self.max_age <= iat <= now + self.future:
            raise refusals.bad_proof("The DPoP proof was not made just now (iat).")
        if claims.get("ath") != token_hash(access_token):
            raise refusals.bad_proof("The DPoP proof is not for this access token (ath).")
        if key.thumbprint() != jkt:
            raise refusals.bad_proof("The DPoP proof is signed by another key than the one the token is bound to.")
        jti = claims.get("jti")
        if not isinstance(jti, str) or not 0 < len(jti) <= 256:
            raise refusals.bad_proof("The DPoP proof has no usable jti.")
        if not self.memory.first_use(jkt, jti, self.max_age + self.future):
            raise refusals.bad_proof("This DPoP proof was used before (jti): make a new one for each request.")

    def _header(self, proof: str) -> dict:
        try:
            header = jws.extract_compact(proof.encode("ascii"), registry=self._registry).headers()
        except (JoseError, ValueError, UnicodeError):
            raise refusals.bad_proof("The DPoP header is not a JWT.") from None
        if header.get("typ") != PROOF_TYPE:
            raise refusals.bad_proof(f"A DPoP proof is typed {PROOF_TYPE} (RFC 9449 section 4.2).")
        if header.get("alg") not in self.algorithms:
            raise refusals.bad_proof("The DPoP proof must be signed with one of " + " ".join(self.algorithms) + ".")
        jwk = header.get("jwk")
        if not isinstance(jwk, dict) or any(member in jwk for member in PRIVATE_MEMBERS):
            raise refusals.bad_proof("The DPoP proof's header must carry the public key (jwk), and nothing private.")
        return header
