"""Pushed authorization requests (RFC 9126): the parameters a client pushed, kept under a one-time
``request_uri`` that only that client may use.

A ``request_uri`` is ``urn:ietf:params:oauth:request_uri:`` and 256 random bits, stored by keyed hash. It must
reach ``/oauth/authorize`` within ``AUTHGATE_PAR_SECONDS`` (§2.2). Its first use there starts the authorization,
which may take a sign-in, a second factor and the consent page, each a round trip carrying only ``client_id``
and ``request_uri``: from then on it lives ``AUTHORIZATION_SECONDS`` more, and it is deleted when the
authorization ends (a code or an error sent back to the client), so it works for one authorization only (§4).

A request object (RFC 9101) sent through the browser is kept the same way once verified (``keep_front_channel``,
marked ``front_channel``), already begun: its round trips then carry a ``request_uri`` too, so the object itself,
whose ``jti`` works once, is verified once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from authgate.security import secrets as gen
from authgate.security.secrets import SecretHasher
from authgate.settings import Settings
from authgate.storage.models import PushedAuthorizationRequest
from authgate.storage.repositories.pushed_requests import PushedRequestStore
from authgate.storage.types import utcnow

REQUEST_URI_PREFIX = "urn:ietf:params:oauth:request_uri:"
AUTHORIZATION_SECONDS = 600
"""How long an authorization begun with a pushed request may take once begun (sign-in included)."""


@dataclass(frozen=True)
class Pushed:
    """A pushed request being used: its parameters, and the instant a sign-in it asked for must follow."""

    id: int
    parameters: list[tuple[str, str]]
    sign_in_after: datetime | None
    front_channel: bool = False
    """A request object sent through the browser, not pushed: it does not meet a requirement to push."""


class PushedRequestService:
    def __init__(self, settings: Settings, hasher: SecretHasher, store: PushedRequestStore):
        self.settings = settings
        self.hasher = hasher
        self.store = store

    def push(self, s: Session, client_pk: int, parameters: list[tuple[str, str]]) -> tuple[str, int]:
        """Keep ``parameters`` for the client; its new ``request_uri`` and how many seconds it waits for its use."""
        request_uri = REQUEST_URI_PREFIX + gen.generate()
        now = utcnow()
        lifetime = self.settings.par_seconds
        self.store.add(s, PushedAuthorizationRequest(
            request_uri_hash=self.hasher.hash(request_uri), client_id=client_pk,
            parameters=[[name, value] for name, value in parameters], created_at=now,
            expires_at=now + timedelta(seconds=lifetime)), now)
        return request_uri, lifetime

    def keep_front_channel(self, s: Session, client_pk: int, parameters: list[tuple[str, str]]) -> tuple[str, Pushed]:
        """Keep a verified request object's parameters for its authorization, begun now: the ``request_uri`` its
        round trips carry, and the request as ``open`` gives it."""
        request_uri = REQUEST_URI_PREFIX + gen.generate()
        now = utcnow()
        row = PushedAuthorizationRequest(
            request_uri_hash=self.hasher.hash(request_uri), client_id=client_pk,
            parameters=[[name, value] for name, value in parameters], created_at=now, first_used_at=now,
            expires_at=now + timedelta(seconds=AUTHORIZATION_SECONDS), front_channel=True)
        self.store.add(s, row, now)
        return request_uri, Pushed(row.id, list(parameters), None, front_channel=True)

    def open(self, s: Session, request_uri: str, client_pk: int) -> Pushed | None:
        """The pushed request behind ``request_uri`` if it is the client's and still usable; its first use starts
        the authorization's own lifetime. Its row stays locked until the transaction ends, so of the requests
        that use one ``request_uri`` at the same time, one at a time decides, and once one ended it (``finish``)
        the others find it gone: one authorization, one code (RFC 9126 §2.2), on PostgreSQL as on SQLite."""
        now = utcnow()
        row = self.store.live(s, self.hasher.hash(request_uri), now) if request_uri.startswith(REQUEST_URI_PREFIX) \
            else None
        if row is None or row.client_id != client_pk:
            return None
        if row.first_used_at is None:
            self.store.first_use(s, row.id, now, now + timedelta(seconds=AUTHORIZATION_SECONDS))
        return Pushed(row.id, [(name, value) for name, value in row.parameters], row.sign_in_after,
                      front_channel=bool(row.front_channel))

    def sign_in_asked(self, s: Session, pushed: Pushed, parameters: list[tuple[str, str]]) -> None:
        """The authorization sends the user to sign in: the request continues with ``parameters`` (without
        ``prompt=login`` and ``max_age``), and only a sign-in from now on satisfies it."""
        self.store.sign_in_asked(s, pushed.id, [[n, v] for n, v in parameters], utcnow().replace(microsecond=0))

    def finish(self, s: Session, pushed: Pushed) -> None:
        """The authorization ended (answered to the client): the ``request_uri`` works no more."""
        self.store.remove(s, pushed.id)
