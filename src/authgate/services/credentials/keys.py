"""Signing keys: kept in the database, rotated in stages, published as a JWKS.

A key's life, from its row's timestamps (so every instance agrees without talking to the others):
``next`` (published in the JWKS, not signing yet) from ``created_at`` until ``activates_at``;
``active`` until ``retired_at``; ``published`` (still in the JWKS and accepted by the bearer check)
until ``retired_at`` + the longest JWT lifetime; then ``expired``.

``rotate`` makes a key that signs ``AUTHGATE_KEY_PUBLISH_AHEAD`` seconds later (``now=True``: at
once) and retires the key it replaces at that moment, so resource servers that cache the JWKS have
the new key before any token carries it. Access tokens are signed by the active key that started
last; ID tokens by the active RS256 key (OpenID Connect Discovery §3, Core §15.1: RS256 must be
supported), so rotating to ES256 or EdDSA keeps the RS256 key for ID tokens. What is signed for a client
held to FAPI 2.0 (``profiles.FAPI2_ALGORITHMS``: PS256, ES256, EdDSA only) takes the active key of those
algorithms that started last; when there is none, one (ES256) is made on the spot, active at once, reserved
for those clients: it never signs for the others, so making it moves no resource server off RS256, and a
rotation to RS256 keeps it.

A resource server may opt in to another algorithm for its access tokens (``ResourceServer.signing_alg``, RFC 9068
§2.1: RS256 stays the default). Its tokens are signed by the general key when that key has the algorithm,
else by the active key of that algorithm reserved for resources (``reserved_for = 'resources'``), made on first
need, active at once (published before its first token, as any key in the JWKS), and rotated on its own
(``rotate_for_resources``); an ordinary rotation keeps it.

A retired key stays published for the longest lifetime a token it signed may have: ``max_token_lifetime``, or
what ``lifetime`` answers (the server's default and the longest any resource server gives its tokens).

The keys are cached in process. A rotation or removal made anywhere arrives as a ``keys``
event (``forget``, subscribed by the composition root), after which the cache is stale until reloaded;
while the events are out of sync (``trust_cache()`` false, given by the invalidation bus) every signing
checks the table first (one query).
Private keys are sealed at rest when a secret key is set (``security/encryption.py``).
"""

from __future__ import annotations

import json
import math
import secrets
import threading
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from authgate.security.encryption import SecretBox
from authgate.services.applications.profiles import FAPI2_ALGORITHMS
from authgate.services.caching import events
from authgate.services.errors import Invalid, NotFound
from authgate.services.operations import audit, bootstrap
from authgate.storage.db import Database
from authgate.storage.models import SigningKey
from authgate.storage.repositories.keys import KeyStore
from authgate.storage.types import utcnow

DEFAULT_ALG = "RS256"
ID_TOKEN_ALG = "RS256"
KEY_TYPES = {"RS256": ("RSAKey", 2048), "PS256": ("RSAKey", 2048), "ES256": ("ECKey", "P-256"),
             "EdDSA": ("OKPKey", "Ed25519")}
"""joserfc's key class and the size (or curve) of a new key, by algorithm."""
ALGORITHMS = tuple(KEY_TYPES)
RELOAD_INTERVAL = 1.0
ACCESS_TOKENS, ID_TOKENS, FAPI2_TOKENS = "access_tokens", "id_tokens", "fapi2"
RESOURCES = "resources"
"""``reserved_for`` of the keys that sign for resource servers that opted in to an algorithm."""
PROFILE_KEY_ALG = "ES256"

# RFC 9864 prefers the name "Ed25519" to "EdDSA"; most verifiers (PyJWT, OIDC clients) still know only "EdDSA".
warnings.filterwarnings("ignore", message="EdDSA is deprecated")


def _jwk():
    """joserfc's JWK module, imported where a key is made, read or published (listing keys needs none)."""
    from joserfc import jwk

    return jwk


def _context(kid: str) -> str:
    return f"signing_keys/{kid}"


def new_kid() -> str:
    """A random key id that does not start with ``-`` (which a command line would read as an option)."""
    while (kid := secrets.token_urlsafe(12)).startswith("-"):
        pass
    return kid


def new_key(box: SecretBox, alg: str = DEFAULT_ALG, activates_at: datetime | None = None,
            reserved_for: str | None = None) -> SigningKey:
    if alg not in KEY_TYPES:
        raise Invalid(f"unknown key algorithm {alg!r}; choose from {', '.join(ALGORITHMS)}")
    kid = new_kid()
    kind, size = KEY_TYPES[alg]
    key = getattr(_jwk(), kind).generate_key(size, parameters={"kid": kid, "alg": alg, "use": "sig"})
    private = key.as_dict(private=True)
    if box.enabled:
        private = {"sealed": box.seal(json.dumps(private).encode(), _context(kid))}
    return SigningKey(kid=kid, alg=alg, private_jwk=private, public_jwk=key.as_dict(private=False),
                      created_at=utcnow(), activates_at=activates_at, reserved_for=reserved_for)


def _private_jwk(box: SecretBox, kid: str, stored: dict) -> dict:
    return json.loads(box.open(stored["sealed"], _context(kid))) if "sealed" in stored else stored


@dataclass(frozen=True)
class KeyInfo:
    kid: str
    alg: str
    created_at: datetime
    activates_at: datetime
    retired_at: datetime | None
    published_until: datetime | None  # None while not retired
    signs: tuple[str, ...] = ()
    reserved_for: str | None = None

    def status(self, now: datetime) -> str:
        if self.retired_at is not None and self.retired_at <= now:
            return "published" if self.published_until > now else "expired"
        return "next" if self.activates_at > now else "active"

    def as_dict(self) -> dict:
        return {
            "kid": self.kid,
            "alg": self.alg,
            "status": self.status(utcnow()),
            "signs": list(self.signs),
            "created_at": self.created_at.isoformat(),
            "activates_at": self.activates_at.isoformat(),
            "retired_at": self.retired_at.isoformat() if self.retired_at else None,
            "published_until": self.published_until.isoformat() if self.published_until else None,
            "reserved_for": self.reserved_for,
        }


@dataclass(frozen=True)
class _Cached:
    info: KeyInfo
    public: object
    stored_private: dict


def resource_role(alg: str) -> str:
    """The role of the key that signs access tokens for resource servers that chose ``alg``."""
    return f"{RESOURCES}:{alg}"


def signers(infos, now: datetime) -> dict[str, KeyInfo]:
    """Which key signs what at ``now``: access tokens the active key that started last, ID tokens the
    active RS256 key that started last (or the access-token key when no RS256 key is active), both for FAPI 2.0
    clients the active PS256, ES256 or EdDSA key that started last (none when there is no such key), access
    tokens for resource servers that chose an algorithm (``resource_role``) the active key reserved for
    resources of that algorithm that started last. A reserved key signs for the others only when no other key
    is active."""
    active = sorted((k for k in infos if k.status(now) == "active"), key=lambda k: (k.activates_at, k.created_at))
    if not active:
        return {}
    general = [k for k in active if k.reserved_for is None] or active
    rsa = [k for k in general if k.alg == ID_TOKEN_ALG]
    roles = {ACCESS_TOKENS: general[-1], ID_TOKENS: rsa[-1] if rsa else general[-1]}
    profiled = [k for k in active if k.alg in FAPI2_ALGORITHMS and k.reserved_for != RESOURCES]
    if profiled:
        roles[FAPI2_TOKENS] = profiled[-1]
    for k in active:
        if k.reserved_for == RESOURCES:
            roles[resource_role(k.alg)] = k
    return roles


class KeyService:
    def __init__(self, db: Database, store: KeyStore, max_token_lifetime: int, box: SecretBox | None = None,
                 publish_ahead: int = 0, trust_cache: Callable[[], bool] = lambda: False,
                 lifetime: Callable[[Session], int] | None = None):
        """``max_token_lifetime``: seconds the longest-lived JWT signed by a key may still be valid, or
        ``lifetime``, when given, answers it from the database (resource servers may give their tokens longer);
        ``publish_ahead``: seconds a rotated-in key is published before it signs; ``trust_cache``: whether
        the events that announce rotations are in sync (``InvalidationBus.fresh``)."""
        self._db = db
        self.store = store
        self._box = box or SecretBox(None)
        self._lifetime = timedelta(seconds=max_token_lifetime)
        self._lifetime_of = lifetime
        self.publish_ahead = publish_ahead
        self._lock = threading.Lock()
        self._keys: list[_Cached] = []
        self._public: dict[str, tuple[object, float]] = {}
        self._private: dict[str, object] = {}
        self._snapshot = None
        self._version = 0
        self._loaded_version = -1
        self._loaded_at = 0.0
        self.trust_cache = trust_cache

    # -- changing the keys ---------------------------------------------------------------------------

    def ensure_signing_key(self, s: Session, profile: bool = False) -> None:
        """Make an RS256 key on first start (and, with ``profile``, a key FAPI 2.0 allows); then check that every
        key that signs can be read."""
        now = utcnow()
        roles = signers(self.list(s), now)
        if not roles:
            self.store.add(s, new_key(self._box, DEFAULT_ALG))
        elif roles[ID_TOKENS].alg != ID_TOKEN_ALG:
            self._add_id_token_key(s, roles[ACCESS_TOKENS])
        if profile:
            self.ensure_profile_key(s)
        for info in self.list(s):
            if info.status(now) in ("next", "active"):
                _private_jwk(self._box, info.kid, self.store.get(s, info.kid).private_jwk)

    def _add_id_token_key(self, s: Session, access_key: KeyInfo) -> None:
        """An RS256 key for ID tokens where none is active (a database rotated to another algorithm before rotations
        kept the RS256 key): it signs at once, dated just before the access-token key so that key keeps signing
        access tokens. A relying party meets its ``kid`` first in an ID token and fetches the JWKS again (OpenID
        Connect Core 1.0 §10.1.1)."""
        row = new_key(self._box, ID_TOKEN_ALG, activates_at=access_key.activates_at - timedelta(seconds=1))
        self.store.add(s, row)
        audit.record(s, "key.rotated", subject=row.kid,
                     details={"alg": ID_TOKEN_ALG, "activates_at": row.activates_at.isoformat(), "for": ID_TOKENS})
        events.record(s, events.KEYS, [row.kid])

    def rotate(self, s: Session, alg: str = DEFAULT_ALG, now: bool = False) -> KeyInfo:
        """A new ``alg`` key that signs access tokens (and ID tokens if RS256) after the publish-ahead
        time, or at once with ``now``; the keys it replaces retire at that moment. Rotating to another
        algorithm keeps the RS256 key that signs ID tokens."""
        start = utcnow() if now or not self.publish_ahead else utcnow() + timedelta(seconds=self.publish_ahead)
        row = new_key(self._box, alg, activates_at=start)
        keep = [row.kid for row in self.store.all(s) if row.reserved_for == RESOURCES]
        if alg != ID_TOKEN_ALG:
            keep.append(self.store.newest_unretired(s, ID_TOKEN_ALG))
        if alg not in FAPI2_ALGORITHMS:
            keep.append(self.store.newest_unretired(s, PROFILE_KEY_ALG, reserved_for=FAPI2_TOKENS))
        self.store.hand_over(s, [kid for kid in keep if kid], utcnow(), start)
        self.store.add(s, row)
        audit.record(s, "key.rotated", subject=row.kid, details={"alg": alg, "activates_at": start.isoformat()})
        events.record(s, events.KEYS, [row.kid])
        return next(k for k in self.list(s) if k.kid == row.kid)

    def rotate_for_resources(self, s: Session, now: bool = False) -> list[KeyInfo]:
        """A new key for each algorithm resource servers are signed with by a reserved key, signing after the
        publish-ahead time (at once with ``now``); the keys they replace retire at that moment and stay
        published until the tokens they signed expired. The other keys are not touched."""
        start = utcnow() if now or not self.publish_ahead else utcnow() + timedelta(seconds=self.publish_ahead)
        rows = self.store.all(s)
        replaced = [r for r in rows if r.reserved_for == RESOURCES and (r.retired_at is None or r.retired_at > start)]
        made = [new_key(self._box, alg, activates_at=start, reserved_for=RESOURCES)
                for alg in dict.fromkeys(r.alg for r in replaced)]
        replaced_kids = {r.kid for r in replaced}
        self.store.hand_over(s, [r.kid for r in rows if r.kid not in replaced_kids], utcnow(), start)
        for row in made:
            self.store.add(s, row)
            audit.record(s, "key.rotated", subject=row.kid, details={"alg": row.alg, "activates_at": start.isoformat(),
                                                                     "for": "resource servers"})
        events.record(s, events.KEYS, [row.kid for row in made] or list(replaced_kids))
        kids = {row.kid for row in made}
        return [k for k in self.list(s) if k.kid in kids]

    def _add_resource_key(self, s: Session, alg: str) -> None:
        """A key of ``alg``, active at once, for the access tokens of resource servers that chose ``alg``."""
        row = new_key(self._box, alg, activates_at=utcnow(), reserved_for=RESOURCES)
        self.store.add(s, row)
        audit.record(s, "key.rotated", subject=row.kid, details={"alg": alg, "activates_at": row.activates_at.isoformat(),
                                                                 "for": "resource servers"})
        events.record(s, events.KEYS, [row.kid])
        s.flush()
        self.forget()

    def ensure_profile_key(self, s: Session) -> None:
        """Make an ES256 key, active at once, unless a key FAPI 2.0 allows is active already."""
        if FAPI2_TOKENS not in signers(self.list(s), utcnow()):
            self._add_profile_key(s)

    def _add_profile_key(self, s: Session) -> None:
        """An ES256 key, active at once, for what is signed for FAPI 2.0 clients when no active key may sign it."""
        row = new_key(self._box, PROFILE_KEY_ALG, activates_at=utcnow(), reserved_for=FAPI2_TOKENS)
        self.store.add(s, row)
        audit.record(s, "key.rotated", subject=row.kid, details={"alg": row.alg, "activates_at": row.activates_at.isoformat(),
                                                                 "for": "FAPI 2.0 clients"})
        events.record(s, events.KEYS, [row.kid])
        s.flush()
        self.forget()

    def remove(self, s: Session, kid: str) -> KeyInfo:
        """Delete a retired key at once (a compromised one): tokens it signed are refused everywhere."""
        info = next((k for k in self.list(s) if k.kid == kid), None)
        if info is None:
            raise NotFound(f"no signing key {kid!r}")
        if info.status(utcnow()) in ("next", "active"):
            raise Invalid(f"key {kid} is {info.status(utcnow())}: replace it first "
                          f"(`authgate keys rotate --now --alg {info.alg}`), then remove it")
        self.store.delete(s, kid)
        audit.record(s, "key.removed", subject=kid, details={"alg": info.alg})
        events.record(s, events.KEYS, [kid])
        return info

    def encrypt_at_rest(self, s: Session) -> tuple[int, int]:
        """Encrypt every private key and server secret under the current secret key (reading rows in
        clear or under the old secret key); how many signing keys and server secrets changed."""
        if not self._box.enabled:
            raise Invalid("set AUTHGATE_SECRET_KEY (or AUTHGATE_SECRET_KEY_FILE) to the key to encrypt under; "
                          "to change it, give the previous one as AUTHGATE_OLD_SECRET_KEY")
        counts = self._reseal(s), bootstrap.reseal_server_secrets(s, self._box)
        audit.record(s, "keys.encrypted", details={"signing_keys": counts[0], "server_secrets": counts[1]})
        return counts

    def in_clear(self, s: Session) -> int:
        """How many private keys and server secrets are stored unencrypted although a secret key is set."""
        if not self._box.enabled:
            return 0
        return (sum("sealed" not in jwk for jwk in self.store.private_jwks(s))
                + bootstrap.count_in_clear(s))

    def _reseal(self, s: Session) -> int:
        changed = 0
        for row in self.store.all(s):
            if "sealed" in row.private_jwk and self._box.is_current(row.private_jwk["sealed"]):
                continue
            plain = _private_jwk(self._box, row.kid, row.private_jwk)
            row.private_jwk = {"sealed": self._box.seal(json.dumps(plain).encode(), _context(row.kid))}
            changed += 1
        return changed

    # -- reading -------------------------------------------------------------------------------------

    def list(self, s: Session) -> list[KeyInfo]:
        self._refresh_lifetime(s)
        infos = [self._info(r) for r in self.store.all(s)]
        roles = signers(infos, utcnow())
        return [replace(k, signs=tuple(r for r, v in roles.items() if v.kid == k.kid)) for k in infos]

    def _info(self, row: SigningKey) -> KeyInfo:
        until = row.retired_at + self._lifetime if row.retired_at else None
        return KeyInfo(row.kid, row.alg, row.created_at, row.activates_at or row.created_at, row.retired_at, until,
                       reserved_for=row.reserved_for)

    def _refresh_lifetime(self, s: Session) -> None:
        if self._lifetime_of is not None:
            self._lifetime = timedelta(seconds=self._lifetime_of(s))

    def _load(self, s: Session) -> None:
        version = self._version
        self._refresh_lifetime(s)
        rows = self.store.all(s)
        now = utcnow()
        import_key = _jwk().import_key
        cached = [_Cached(info, import_key(row.public_jwk), row.private_jwk)
                  for row, info in ((row, self._info(row)) for row in rows) if info.status(now) != "expired"]
        public = {c.info.kid: (c.public, c.info.published_until.timestamp() if c.info.published_until else math.inf)
                  for c in cached}
        with self._lock:
            self._keys = cached
            self._public = public
            self._private = {kid: key for kid, key in self._private.items() if kid in public}
            self._snapshot = (len(rows), max((r.created_at for r in rows), default=None))
            self._loaded_version = version
            self._loaded_at = time.monotonic()

    def _current(self) -> bool:
        return self._loaded_version == self._version

    def _check(self, s: Session) -> None:
        """Reload when stale or when the table changed since (a rotation or removal not heard of yet)."""
        if not self._current() or self.store.snapshot(s) != self._snapshot:
            self._load(s)

    def signing_key(self, s: Session, purpose: str = ACCESS_TOKENS):
        """The private key that signs ``purpose`` now. While ``trust_cache()`` says the revocation events
        are in sync (they carry rotations), the cache answers without a query; a staged key takes over
        at its ``activates_at`` on every instance, no event needed."""
        if not (self._current() and self.trust_cache()):
            self._check(s)
        chosen = signers([c.info for c in self._keys], utcnow()).get(purpose)
        if chosen is None and (purpose == FAPI2_TOKENS or purpose.startswith(RESOURCES + ":")):
            if purpose == FAPI2_TOKENS:
                self._add_profile_key(s)
            else:
                self._add_resource_key(s, purpose.partition(":")[2])
            self._check(s)
            chosen = signers([c.info for c in self._keys], utcnow()).get(purpose)
        if chosen is None:
            raise RuntimeError("no active signing key: run `authgate db upgrade` or `authgate serve` once")
        key = self._private.get(chosen.kid)
        if key is None:
            stored = next(c.stored_private for c in self._keys if c.info.kid == chosen.kid)
            key = self._private[chosen.kid] = _jwk().import_key(_private_jwk(self._box, chosen.kid, stored))
        return key

    def access_token_key(self, s: Session, alg: str | None = None, fapi2: bool = False):
        """The key that signs an access token for resource servers that chose ``alg`` (None: the default): the general
        key when it has that algorithm, else the key reserved for resources of ``alg``. For a FAPI 2.0 client, an
        algorithm the profile allows: the resource's if it is one, else the profile's key."""
        if fapi2 and alg not in FAPI2_ALGORITHMS:
            return self.signing_key(s, FAPI2_TOKENS)
        general = self.signing_key(s, FAPI2_TOKENS if fapi2 else ACCESS_TOKENS)
        if alg is None or general.alg == alg:
            return general
        if alg not in KEY_TYPES:
            raise Invalid(f"unknown key algorithm {alg!r}; choose from {', '.join(ALGORITHMS)}")
        return self.signing_key(s, resource_role(alg))

    def id_token_key(self, s: Session, fapi2: bool = False):
        return self.signing_key(s, FAPI2_TOKENS if fapi2 else ID_TOKENS)

    def forget(self) -> None:
        """Keys were rotated or removed (here or elsewhere): the cache is stale until the next reload."""
        with self._lock:
            self._version += 1

    def public_key(self, kid: str, reload: bool = True):
        """The published public key named ``kid``, or None (unknown, removed, or retired long enough ago).

        ``reload=False`` never touches the database (for the event loop): an unknown ``kid``, or any
        ``kid`` while the cache is stale, is None.
        """
        if not self._current():
            if not reload:
                return None
            with self._db.session(write=False) as s:
                self._load(s)
        entry = self._public.get(kid)
        if entry is None and reload:
            if time.monotonic() - self._loaded_at > RELOAD_INTERVAL:
                with self._db.session(write=False) as s:
                    self._load(s)
            entry = self._public.get(kid)  # another thread's load may have brought it since the first look
        if entry is None or entry[1] <= time.time():
            return None
        return entry[0]

    def still_published(self, s: Session, kid: str) -> bool:
        """``public_key`` after checking the table (for when the revocation events are out of sync)."""
        self._check(s)
        return self.public_key(kid, reload=False) is not None

    def id_token_algorithms(self, s: Session, fapi2: bool = False) -> list[str]:
        """What ID tokens are signed with now (Discovery §3 ``id_token_signing_alg_values_supported``): the ID token
        key's algorithm, then that of a key reserved for FAPI 2.0 clients; ``fapi2``: with every client held to FAPI
        2.0, only the latter."""
        algs = [self.id_token_key(s, fapi2).alg]
        profiled = signers([c.info for c in self._keys], utcnow()).get(FAPI2_TOKENS)
        if not fapi2 and profiled is not None and profiled.alg not in algs:
            algs.append(profiled.alg)
        return algs

    def jwks(self, s: Session) -> dict:
        self._load(s)
        now = time.time()
        return _jwk().KeySet([key for key, until in self._public.values() if until > now]).as_dict(private=False)
