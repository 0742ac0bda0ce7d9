"""The events a change records for the caches of every worker, and how a service records one.

A service calls ``record(s, kind, subjects)`` in the transaction that makes the change. The
invalidation bus (``bus.py``) writes the queued events to the event log when that transaction
commits, and applies them in every worker; a rollback drops them.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from authgate.storage.repositories.events import SUBJECT_LENGTH

JTI = "jti"
"""An access token was revoked (subject: its ``jti``)."""
CLIENT = "client"
"""A client was deleted (its ``client_id``)."""
CLIENT_CHANGED = "client.changed"
"""A client's secret, grants, redirect URIs or scopes changed (its ``client_id``)."""
USER = "user"
"""A user changed: status, deletion, rights, profile (the user id)."""
PAT = "pat"
"""A personal access token was revoked (its id)."""
KEYS = "keys"
"""A signing key was rotated in or removed (its ``kid``)."""
UNLOCK = "unlock"
"""An administrator ended a user's sign-in lockout (the user id), or a password reset ended its count of wrong
passwords only (``PASSWORD_ONLY`` and the user id)."""
PASSWORD_ONLY = "password:"

QUEUED = "authgate.events.queued"


def record(s: Session, kind: str, subjects) -> None:
    """Record ``kind`` events for ``subjects`` in the caller's transaction; applied everywhere once it commits."""
    s.info.setdefault(QUEUED, []).extend((kind, str(subject)[:SUBJECT_LENGTH]) for subject in subjects)
