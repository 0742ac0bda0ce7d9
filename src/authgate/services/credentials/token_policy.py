"""May this principal use tokens: the one token-validity rule (issue 13 item 2).

Asked by every grant before it issues (the code's, refresh token's and device code's user, the
refresh token's family), and meant for the bearer check and introspection before they accept one:
the client still exists (a deleted client's tokens die with it), the family the tokens belong to
exists and is not revoked, and the user they act for may still act (``account_is_active``:
exists, not deleted, ``status`` ``ACTIVE``). Each caller passes what it has already read, so the
rule costs no query; the answer says which part failed, so each caller keeps its own error.
"""

from __future__ import annotations

from authgate.services.accounts.people.principal import account_is_active
from authgate.storage.models import TokenFamily, User

CLIENT_GONE = "client"
FAMILY_REVOKED = "family"
USER_INACTIVE = "user"


def token_refusal(*, client_alive: bool = True, in_family: bool = False, family: TokenFamily | None = None,
                  for_user: bool = False, user: User | None = None) -> str | None:
    """Why tokens of this principal may not be issued or used (``CLIENT_GONE``, ``FAMILY_REVOKED``,
    ``USER_INACTIVE``, in that order), or None when they may.

    ``in_family``: the tokens belong to a family, ``family`` as read (None if it is gone);
    ``for_user``: they act for a user, ``user`` as read (None if they are gone)."""
    if not client_alive:
        return CLIENT_GONE
    if in_family and (family is None or family.revoked_at is not None):
        return FAMILY_REVOKED
    if for_user and not account_is_active(user):
        return USER_INACTIVE
    return None
