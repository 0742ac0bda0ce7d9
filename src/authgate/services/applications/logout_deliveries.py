"""Back-Channel Logout 1.0 deliveries: when a browser session ends, each client signed in through it hears so.

``sessions_ended`` is ``SessionService.on_end``, the one place every ending passes (sign-out, RP-initiated logout,
"sign out one / the others", an administrator ending sessions by page, API or CLI, a password change,
deactivation, deletion). In the same transaction it queues, in ``logout_deliveries``, one logout token per client
that got tokens through an ended session (with its ``sid``), and, when every session of the user ended, one for
each other client that ever got tokens for the user (``sub`` only: all their sessions there, §2.4; not to a
client that requires ``sid``). Only clients with a ``backchannel_logout_uri`` are queued, and none an administrator
disabled (its tokens are revoked, and its endpoint is no longer trusted with who signed out); one disabled after its
delivery was queued is given up without a request.

The serving process posts them from its own background thread (``run``), never in a request, so a command-line
``authgate users end-sessions`` is delivered by the running server too. Each delivery is claimed by one worker
(``claim_due``), signed then (``logout_tokens.py``) and posted on a small pool (``PARALLEL`` at a time, each
settled as soon as it is answered), so a slow relying party holds up no other; it is posted as ``logout_token=...`` (§2.5) with a short timeout
and no redirect followed; a 2xx is success (§2.8). A timeout, a refused connection or a 5xx is tried again after
``RETRY_DELAYS``; a 4xx (the relying party refused the token) or the last failure gives up. Each attempt is in the
security log (``logout.delivered`` / ``logout.delivery_failed``), never the token. A URI that is neither https nor
http on a loopback host is refused without a request (``logout_uris.deliverable``). A client that registered itself
(RFC 7591, or a Client ID Metadata Document) is posted to through ``SafeFetcher``: only public addresses, checked
and pinned, so nobody can register a client to make authgate POST into its own network; clients an operator made
may name internal hosts, as their applications often live there."""

from __future__ import annotations

import logging
import secrets
import threading
from concurrent.futures import ThreadPoolExecutor
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlencode

from sqlalchemy.orm import Session

from authgate.services.accounts.sessions.sessions import SessionService
from authgate.services.applications.logout_uris import deliverable
from authgate.services.credentials.keys import KeyService
from authgate.services.credentials.logout_tokens import logout_claims, sign_logout_token
from authgate.services.operations import audit
from authgate.services.operations.safe_fetch import FetchRefused, SafeFetcher
from authgate.storage.db import Database
from authgate.storage.models import Client, LogoutDelivery
from authgate.storage.repositories.logout_deliveries import LogoutDeliveryStore
from authgate.storage.types import utcnow

log = logging.getLogger("authgate.logout")

RETRY_DELAYS = (2, 10, 60, 300)
"""Seconds before the second, third, ... attempt; after the last, the delivery is given up."""
TIMEOUT_SECONDS = 5
LEASE_SECONDS = 60
PARALLEL = 8
"""Posts in flight at once per process."""
POLL_SECONDS = 1.0


@dataclass(frozen=True)
class Job:
    delivery_id: int
    attempt: int
    client_id: str
    user_id: int
    with_sid: bool
    uri: str
    token: str | None
    """None: the URI may not be posted to (``refused`` says why)."""
    self_registered: bool = False
    refused: str = "not https or loopback http"


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


_opener = urllib.request.build_opener(_NoRedirects)


def post_logout_token(uri: str, token: str) -> tuple[bool, str]:
    """Post the token (§2.5): (delivered, what happened); retryable failures are those not answered 4xx."""
    request = urllib.request.Request(uri, data=urlencode({"logout_token": token}).encode(), method="POST",
                                     headers={"Content-Type": "application/x-www-form-urlencoded",
                                              "Cache-Control": "no-store"})
    try:
        with _opener.open(request, timeout=TIMEOUT_SECONDS) as response:
            return True, f"HTTP {response.status}"
    except urllib.error.HTTPError as error:
        return False, f"HTTP {error.code}"
    except (urllib.error.URLError, OSError, ValueError) as error:
        return False, type(getattr(error, "reason", error)).__name__


def guarded_post(fetcher: SafeFetcher):
    """``post_logout_token`` through ``fetcher``'s address rules."""
    def post(uri: str, token: str) -> tuple[bool, str]:
        try:
            status = fetcher.post_form(uri, {"logout_token": token})
        except FetchRefused as refused:
            return False, f"refused: {refused}"
        return 200 <= status < 300, f"HTTP {status}"
    return post


class LogoutDeliveries:
    def __init__(self, issuer: str, db: Database, store: LogoutDeliveryStore, keys: KeyService,
                 sessions: SessionService, fetcher: SafeFetcher, post=post_logout_token):
        self.issuer = issuer
        self.db = db
        self.store = store
        self.keys = keys
        self.sessions = sessions
        self.post = post
        self.post_guarded = guarded_post(fetcher)
        self._wake = threading.Event()
        self._pool: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()
        self._in_flight = 0

    def sessions_ended(self, s: Session, user_id: int, record_ids: list[int], everywhere: bool) -> None:
        rows, covered = [], set()
        for client_pk, session_id in self.store.clients_of_sessions(s, record_ids):
            rows.append({"client_id": client_pk, "session_id": session_id})
            covered.add(client_pk)
        if everywhere:
            rows += [{"client_id": client_pk, "session_id": None}
                     for client_pk, sid_required in self.store.clients_of_user(s, user_id)
                     if client_pk not in covered and not sid_required]
        if not rows:
            return
        now = utcnow()
        self.store.add(s, [{**row, "user_id": user_id, "jti": secrets.token_urlsafe(16), "attempts": 0,
                            "next_attempt_at": now, "created_at": now} for row in rows])
        self._wake.set()

    def deliver_due(self) -> int:
        """Claim what is due now, as many as there are free places on the pool (claimed so no other worker
        posts them too), and hand each to the pool; how many were claimed."""
        with self._lock:
            room = PARALLEL - self._in_flight
        if room <= 0:
            return 0
        now = utcnow()
        with self.db.session() as s:
            jobs = [self._job(s, delivery, client) for delivery, client in
                    self.store.claim_due(s, now, now + timedelta(seconds=LEASE_SECONDS), room)]
        if jobs and self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=PARALLEL, thread_name_prefix="authgate-logout")
        for job in jobs:
            with self._lock:
                self._in_flight += 1
            self._pool.submit(self._deliver, job)
        return len(jobs)

    def _deliver(self, job: Job) -> None:
        try:
            post = self.post_guarded if job.self_registered else self.post
            delivered, what = (False, f"refused: {job.refused}") if job.token is None else post(job.uri, job.token)
            retry = not delivered and job.token is not None and not what.startswith(("HTTP 4", "refused"))
            with self.db.session() as s:
                self._settle(s, job, delivered, what, retry)
        except Exception as error:
            log.warning("logout token to client %s: settling failed (%s); its lease ends and it is tried again",
                        job.client_id, type(error).__name__)
        finally:
            with self._lock:
                self._in_flight -= 1
            self._wake.set()

    def _job(self, s: Session, delivery: LogoutDelivery, client: Client) -> Job:
        uri = client.backchannel_logout_uri or ""
        token = None
        disabled = client.disabled_at is not None
        if deliverable(uri) and not disabled:
            sid = self.sessions.sid(delivery.session_id) if delivery.session_id is not None else None
            claims = logout_claims(self.issuer, client.client_id, str(delivery.user_id), sid, delivery.jti)
            token = sign_logout_token(self.keys.id_token_key(s), claims)
        return Job(delivery.id, delivery.attempts + 1, client.client_id, delivery.user_id,
                   delivery.session_id is not None, uri, token,
                   self_registered=client.registered_at is not None or client.metadata_document_at is not None,
                   **({"refused": "the client is disabled"} if disabled else {}))

    def _settle(self, s: Session, job: Job, delivered: bool, what: str, retry: bool) -> None:
        details = {"attempt": job.attempt, "outcome": what, "sid": job.with_sid}
        if delivered:
            self.store.done(s, job.delivery_id)
            audit.record(s, "logout.delivered", user_id=job.user_id, client_id=job.client_id, details=details)
            return
        if retry and job.attempt <= len(RETRY_DELAYS):
            delay = RETRY_DELAYS[job.attempt - 1]
            self.store.again_at(s, job.delivery_id, job.attempt, utcnow() + timedelta(seconds=delay))
            details["retry_in"] = delay
        else:
            self.store.done(s, job.delivery_id)
            details["gave_up"] = True
        audit.record(s, "logout.delivery_failed", user_id=job.user_id, client_id=job.client_id, details=details)
        log.warning("logout token to client %s not delivered (%s)", job.client_id, what)

    def run(self, stop: threading.Event) -> None:
        """The background loop: deliver what is due, then wait for the next second, a new ending or a free place."""
        while not stop.is_set():
            try:
                self.deliver_due()
            except Exception as error:
                log.warning("logout deliveries failed (%s); trying again", type(error).__name__)
            if self._wake.wait(POLL_SECONDS):
                self._wake.clear()
                stop.wait(0.1)
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
