"""Token issuing as a strategy: the one generator registered with Authlib's token-generator hook.

Every Authlib grant ends in ``AuthorizationServer.generate_token``, which calls the generator
registered for its grant type, else the ``default`` one: ``TokenGenerator``, registered as the
default, so no grant issues tokens its own way. It hands over to ``TokenService.issue``, where the
access token's claims are built and signed and the tokens recorded and audited. Authlib gives a
generator no request, so the grant binds the family the tokens join with ``issuing`` (the
session is the request's, ``current_db``).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from authgate.oauth.context import current_db
from authgate.services.credentials.tokens import TokenService
from authgate.storage.models import TokenFamily


@dataclass(frozen=True)
class _Issuance:
    family: TokenFamily | None
    dpop_jkt: str | None
    audience: list[str] | None = None
    expires_in: int | None = None
    signing_alg: str | None = None


_current: ContextVar[_Issuance] = ContextVar("authgate_issuance")


@contextmanager
def issuing(family: TokenFamily | None, dpop_jkt: str | None = None, audience: list[str] | None = None,
            expires_in: int | None = None, signing_alg: str | None = None) -> Iterator[None]:
    """Tokens generated inside join ``family`` (None: no family, so no refresh token), bound to the DPoP key
    ``dpop_jkt`` if given; their access token is for ``audience`` (RFC 8707; None: the issuer), lives
    ``expires_in`` seconds (None: the default) and is signed with ``signing_alg`` (the resources' choice; None:
    the default key)."""
    token = _current.set(_Issuance(family, dpop_jkt, audience, expires_in, signing_alg))
    try:
        yield
    finally:
        _current.reset(token)


class TokenGenerator:
    """Authlib's generator signature (``register_token_generator``), answered by ``TokenService.issue``."""

    def __init__(self, tokens: TokenService):
        self.tokens = tokens

    def __call__(self, grant_type, client, user=None, scope=None, expires_in=None, include_refresh_token=True) -> dict:
        issuance = _current.get()
        return self.tokens.issue(current_db(), grant_type, client.row, user, scope, issuance.family,
                                 expires_in=issuance.expires_in or expires_in, with_refresh=include_refresh_token,
                                 dpop_jkt=issuance.dpop_jkt, audience=issuance.audience,
                                 signing_alg=issuance.signing_alg)
