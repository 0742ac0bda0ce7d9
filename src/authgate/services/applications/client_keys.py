"""The keys a client proves itself with (RFC 7523 §2.2, OpenID Connect Core §9 ``private_key_jwt``): the
method recorded on the client, and its public keys, given inline (``jwks``) or published at an https URL
(``jwks_uri``, read by ``services/operations/safe_fetch.py``). Exactly one of the two.

``client_secret_jwt`` is not offered: it needs the client secret in clear to check an HMAC, and authgate
keeps secrets only as keyed hashes."""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from authgate.services.errors import Invalid

PRIVATE_KEY_JWT = "private_key_jwt"
METHODS = (PRIVATE_KEY_JWT,)
ALGORITHMS = ("RS256", "PS256", "ES256", "EdDSA")
MAX_KEYS = 20
REFETCH_SECONDS = 60
"""A ``jwks_uri`` lacking the ``kid`` a JWT names is fetched again, at most this often: the client rotated."""

if TYPE_CHECKING:
    from joserfc.jwk import KeySet


def public_keys(jwks) -> KeySet:
    """The JWK Set as joserfc keys, refusing private keys and anything that is not a JWK Set."""
    if not isinstance(jwks, dict) or not isinstance(jwks.get("keys"), list) or not jwks["keys"]:
        raise Invalid('jwks must be a JWK Set: {"keys": [...]} with at least one key', field="jwks")
    if len(jwks["keys"]) > MAX_KEYS:
        raise Invalid(f"jwks may hold at most {MAX_KEYS} keys", field="jwks")
    if any(not isinstance(k, dict) or "d" in k or k.get("kty") == "oct" for k in jwks["keys"]):
        raise Invalid("jwks must hold public keys only (no private or symmetric keys)", field="jwks")
    from joserfc.errors import JoseError  # here: the client commands that read no key set never load JOSE
    from joserfc.jwk import KeySet

    try:
        return KeySet.import_key_set(jwks)
    except (JoseError, ValueError, TypeError, KeyError) as error:
        raise Invalid(f"jwks is not a valid JWK Set: {error}", field="jwks") from None


def keys_of(row, fetcher, kid: str | None = None) -> KeySet:
    """The public keys of a client row (``jwks`` inline, or fetched from ``jwks_uri`` by the safe fetcher, again
    when they lack ``kid``); raises ``Invalid`` (no keys, a bad key set) or ``FetchRefused``."""
    if row.jwks:
        return public_keys(row.jwks)
    if not row.jwks_uri:
        raise Invalid("the client has no keys (jwks or jwks_uri)", field="jwks")
    keys = public_keys(fetcher.json(row.jwks_uri))
    if kid and not any(key.kid == kid for key in keys.keys):
        keys = public_keys(fetcher.json(row.jwks_uri, newer_than=REFETCH_SECONDS))
    return keys


def checked(auth_method: str | None, jwks, jwks_uri: str | None, public: bool) -> tuple[str | None, dict | None, str | None]:
    """``(auth_method, jwks, jwks_uri)`` as they will be stored, or ``Invalid``."""
    if auth_method in (None, "", "client_secret_basic", "client_secret_post", "none"):
        if jwks or jwks_uri:
            raise Invalid("jwks and jwks_uri go with --auth-method private_key_jwt", field="jwks")
        return None, None, None
    if auth_method not in METHODS:
        raise Invalid(f"unknown authentication method {auth_method!r}; choose from client_secret_basic, "
                      "client_secret_post, none, private_key_jwt", field="token_endpoint_auth_method")
    if public:
        raise Invalid("a public client has no key to authenticate with: leave out private_key_jwt", field="public")
    if bool(jwks) == bool(jwks_uri):
        raise Invalid("private_key_jwt needs exactly one of jwks (inline keys) and jwks_uri", field="jwks")
    if jwks:
        public_keys(jwks)
    else:
        try:
            parts = urlsplit(jwks_uri)
        except ValueError:
            parts = None
        loopback_http = parts and parts.scheme == "http" and parts.hostname in ("127.0.0.1", "::1", "localhost")
        if (not isinstance(jwks_uri, str) or len(jwks_uri) > 2000 or not parts or not parts.hostname
                or not (parts.scheme == "https" or loopback_http)):
            raise Invalid("jwks_uri must be an https URL of at most 2000 characters (http only on loopback, "
                          "fetched only under AUTHGATE_FETCH_ALLOW_PRIVATE)", field="jwks_uri")
    return auth_method, jwks or None, jwks_uri or None
