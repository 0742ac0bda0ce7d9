"""Signing in with a directory's password on the ordinary sign-in form.

When the local password check fails (or the name is no local account), ``verify`` tries each enabled LDAP
directory in turn (``ldap_client.verify``: network, outside any write transaction); the password form counts a
refusal towards the lockout as any wrong password (``LoginGuard.check``). ``complete`` then finds the account
by the federation rules (``services/federation/sign_in.py``: the identity already linked, else the local user with
the same verified email where the directory links by email, else a new user where it creates them just in time),
brings the mapped groups up to date (``ProviderService.sync_groups``, as for every provider) and starts the session or the second step.

The session's ``amr`` is ``pwd`` alone (RFC 8176 §2): the person typed a password into authgate's own form and
authgate checked it (by an LDAP bind). ``fed`` means an assertion made by another party after authenticating
the person itself, which no directory does here, so it is not claimed; the second-factor policy applies as after
a local password. A directory's ``mail`` counts as verified for linking: its addresses are the organisation's
own, set by its administrators (the operator chooses to link by it, per directory)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from authgate.services.accounts.sign_in.lockout import Lockout
from authgate.services.directory.ldap_client import DirectoryUser, Unreachable, verify
from authgate.services.directory.settings import DirectoryView
from authgate.services.federation.providers import ProviderService
from authgate.services.federation.sign_in import FederatedSignIns, Refused, SecondStepNeeded, SignedIn
from authgate.services.federation.upstream import Identity
from authgate.services.operations import audit
from authgate.storage.repositories.providers import ProviderStore

PASSWORD = ("pwd",)
UNREACHABLE = "The sign-in directory could not be reached. Try again in a few minutes, or ask an administrator."


@dataclass(frozen=True)
class Verified:
    directory: DirectoryView
    user: DirectoryUser


@dataclass(frozen=True)
class DirectoryDown:
    """No directory said yes and one could not be asked: ``reasons`` for the audit log, never shown."""

    reasons: tuple[str, ...]


class DirectorySignIn:
    def __init__(self, providers: ProviderService, store: ProviderStore, federated: FederatedSignIns,
                 lockout: Lockout):
        self.providers = providers
        self.store = store
        self.federated = federated
        self.lockout = lockout

    def verify(self, s: Session, login: str, password: str) -> Verified | DirectoryDown | None:
        """The first enabled directory whose user ``login`` has ``password``; None when none has (or there is no
        directory); ``DirectoryDown`` when none has and one could not be asked."""
        down = []
        for directory in self.providers.directories(s):
            outcome = verify(directory, login, password)
            if isinstance(outcome, DirectoryUser):
                return Verified(directory, outcome)
            if isinstance(outcome, Unreachable):
                down.append(f"{directory.name}: {outcome.reason}"[:200])
        return DirectoryDown(tuple(down)) if down else None

    @staticmethod
    def is_verified(outcome: object) -> bool:
        return isinstance(outcome, Verified)

    def complete(self, s: Session, verified: Verified, next_url: str, replacing: str | None
                 ) -> SignedIn | SecondStepNeeded | Refused:
        directory, found = verified.directory, verified.user
        identity = Identity(subject=found.subject, email=found.email, email_verified=bool(found.email),
                            preferred_username=found.username, given_name=found.given_name,
                            family_name=found.family_name, amr=PASSWORD,
                            groups=tuple(found.groups) if directory.group_base else None)
        outcome = self.federated.complete(s, directory, identity, next_url, replacing, amr=PASSWORD,
                                          factor="directory")
        if isinstance(outcome, Refused):
            return outcome
        linked = self.store.identity(s, directory.id, found.subject)
        if linked is not None:
            user = linked[1]
            self.lockout.reset_password_count(user.id)
        return outcome

    @staticmethod
    def record_down(s: Session, down: DirectoryDown, subject: str) -> None:
        audit.record(s, "directory.unreachable", subject=subject, details={"reasons": "; ".join(down.reasons)[:500]})
