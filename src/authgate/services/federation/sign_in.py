"""A sign-in through an upstream provider, from the button to the session, and the account rules it follows.

``begin`` stores the round trip (``federated_sign_ins``: the keyed hash of ``state``, the PKCE verifier and the
``nonce`` sealed under a key derived from ``state``, the path to come back to) and returns the upstream's
authorization URL; the page puts ``state`` in a cookie too, so the callback is taken only in the browser that
started it (a callback URL sent to someone else signs nobody in: login CSRF, RFC 9700 §4.7). ``complete`` takes
the round trip once, has the provider's answer validated (``upstream.py``) and finds the account:

1. the identity already linked (provider, ``sub``): that user, if still active;
2. else, when the provider says ``email_verified: true``, the operator allowed linking by verified email for the
   provider, and exactly one local user has that address and has verified it too: linked, then signed in (a local
   address nobody verified could be an attacker's, registered ahead of the victim's first federated sign-in). The
   same address, not one that folds to it (``same_address``);
3. else, with just-in-time creation allowed and the address free: a new user (no password), linked;
4. else refused, with a page saying to sign in locally first and link the account from there.

An unverified address never links. The session's ``amr`` is ``fed`` and the upstream's registered methods (RFC
8176), so ``acr`` follows from what the upstream did (``services/accounts/sign_in/assurance.py``). A user who has a second
factor here, or whom the policy requires to have one, goes on to the second step (or enrolment) unless the
upstream reported ``mfa``: a provider is never a way around the local policy. The provider's group mapping is
applied at each sign-in (``ProviderService.sync_groups``)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.orm import Session

from authgate.security import sealing
from authgate.security.secrets import SecretHasher
from authgate.services.accounts.people.principal import account_is_active
from authgate.services.accounts.people.users import UserService
from authgate.services.accounts.sessions.sessions import SessionService
from authgate.services.accounts.sign_in.second_step import Pending, SecondStep, Started
from authgate.services.errors import ServiceError
from authgate.services.federation.providers import ProviderService, ProviderView
from authgate.services.federation.upstream import Identity, Upstream, UpstreamRefused
from authgate.services.federation.upstream import Started as UpstreamStarted
from authgate.services.operations import audit
from authgate.storage.models import FederatedIdentity, FederatedSignIn
from authgate.storage.repositories.providers import ProviderStore
from authgate.storage.types import utcnow

ROUND_TRIP_SECONDS = 600
FED = "fed"
MAX_AMR = 64
LINK_LOCALLY = ("Sign in here with your password first, then link your {provider} account from your account "
                "page (Linked sign-ins).")


@dataclass(frozen=True)
class Redirect:
    """Send the browser to the upstream's authorization URL; ``state`` goes in the round trip's cookie."""

    url: str
    state: str


@dataclass(frozen=True)
class Refused:
    """No sign-in: ``message`` for the person (plain, never a token), ``next_url`` to offer going back to."""

    message: str
    next_url: str = "/"


@dataclass(frozen=True)
class SecondStepNeeded:
    """The user has a second factor here (or the policy requires one) and the upstream reported no ``mfa``: the
    second step (or enrolment) comes next, as after a password."""

    pending: Pending
    next_url: str


@dataclass(frozen=True)
class SignedIn:
    started: Started
    next_url: str


def callback_path(name: str) -> str:
    return f"/login/federated/{name}/callback"


ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def same_address(local: str, upstream: str) -> bool:
    """Whether two addresses are one mailbox for linking: equal but for the case of ASCII letters. Sign-in names
    compare NFKC-folded (``identifier_key``), but ``straße@`` and ``strasse@`` (or ``faß.example`` and
    ``fass.example``, RFC 5892) are different mailboxes: the upstream verified only the one it names."""
    return local.strip().translate(ASCII_LOWER) == upstream.strip().translate(ASCII_LOWER)


def session_amr(upstream: tuple[str, ...]) -> tuple[str, ...]:
    methods = [FED]
    for method in upstream:
        if method != FED and len(" ".join([*methods, method])) <= MAX_AMR:
            methods.append(method)
    return tuple(methods)


class FederatedSignIns:
    def __init__(self, issuer: str, providers: ProviderService, store: ProviderStore, upstream: Upstream,
                 hasher: SecretHasher, users: UserService, sessions: SessionService, second_step: SecondStep):
        self.issuer = issuer
        self.providers = providers
        self.store = store
        self.upstream = upstream
        self.hasher = hasher
        self.users = users
        self.sessions = sessions
        self.second_step = second_step

    def redirect_uri(self, name: str) -> str:
        return self.issuer + callback_path(name)

    def buttons(self, s: Session) -> list[str]:
        return self.providers.enabled_names(s)

    def provider(self, s: Session, name: str) -> ProviderView | None:
        return self.providers.for_sign_in(s, name)

    def authorization(self, provider: ProviderView) -> UpstreamStarted | str:
        """The authorization request for ``provider`` (discovery may take a network round trip: called outside
        any write transaction), or why there is none."""
        try:
            return self.upstream.start(provider, self.redirect_uri(provider.name))
        except UpstreamRefused as why:
            return str(why)

    def begin(self, s: Session, provider: ProviderView, started: UpstreamStarted | str, next_url: str,
              linking: int | None = None) -> Redirect | Refused:
        """Store the round trip of ``started`` (from ``authorization``) in ``s``, a write transaction. ``linking``:
        the id of the signed-in user linking the identity to come back (``linking.py``), kept in the sealed part."""
        if isinstance(started, str):
            return self._refused(s, provider, started, next_url, stage="start")
        opened = {"nonce": started.nonce, "verifier": started.verifier}
        if linking is not None:
            opened["linking"] = linking
        sealed = sealing.seal(started.state, json.dumps(opened).encode())
        self.store.add(s, FederatedSignIn(state_hash=self.hasher.hash(started.state), provider_id=provider.id,
                                          sealed=sealed, next_url=next_url,
                                          expires_at=utcnow() + timedelta(seconds=ROUND_TRIP_SECONDS)))
        return Redirect(started.url, started.state)

    def take(self, s: Session, name: str, state: str | None) -> tuple[ProviderView, dict, str] | Refused:
        """The round trip ``state`` names, once (deleted in ``s``): its provider, nonce and verifier, and path."""
        row = self.store.take_sign_in(s, self.hasher.hash(state), utcnow()) if state and len(state) <= 128 else None
        opened = sealing.unseal(state, row.sealed) if row is not None else None
        provider = self.providers.for_sign_in_by_id(s, row.provider_id) if row is not None else None
        if row is None or opened is None or provider is None or provider.name != name:
            return Refused("This sign-in is unknown, was already used or took too long. Start again from the "
                           "sign-in page.")
        return provider, json.loads(opened), row.next_url

    def answer(self, provider: ProviderView, secrets: dict, code: str | None, iss: str | None) -> Identity | str:
        """The provider's answer validated (network: outside any write transaction); the reason otherwise."""
        if not code or len(code) > 4096:
            return "the answer carries no authorization code"
        try:
            return self.upstream.finish(provider, self.redirect_uri(provider.name), code, iss, secrets["nonce"],
                                        secrets["verifier"])
        except UpstreamRefused as why:
            return str(why)

    def complete(self, s: Session, provider: ProviderView, outcome: Identity | str, next_url: str,
                 replacing: str | None, amr: tuple[str, ...] | None = None, factor: str = "federation"
                 ) -> SignedIn | SecondStepNeeded | Refused:
        """The account for a validated identity, and its session (the rules in the module's docstring). ``amr``:
        the session's, when not ``fed`` and the upstream's (an LDAP directory's password, checked here)."""
        if isinstance(outcome, str):
            return self._refused(s, provider, outcome, next_url, stage="answer")
        identity = outcome
        linked = self.store.identity(s, provider.id, identity.subject)
        if linked is not None:
            link, user = linked
            if not account_is_active(user):
                return self._refused(s, provider, "the account it is linked to here is deactivated", next_url,
                                     stage="account", user_id=user.id, plain="Your account here is deactivated.")
        else:
            user = self._linkable(s, provider, identity)
            if user is not None and not account_is_active(user):
                return self._refused(s, provider, "the account with its verified email is deactivated", next_url,
                                     stage="account", user_id=user.id, plain="Your account here is deactivated.")
            if user is not None:
                link = self._link(s, provider, identity, user)
                audit.record(s, "federation.linked", user_id=user.id, subject=user.username,
                             details={"provider": provider.name, "by": "verified email"})
            elif provider.allow_jit:
                made = self._create(s, provider, identity)
                if isinstance(made, Refused):
                    return Refused(made.message, next_url)
                user, link = made
            else:
                return self._refused(s, provider, "no local account is linked to it", next_url, stage="account",
                                     plain=f"No account here is linked to your {provider.name} account. "
                                           + LINK_LOCALLY.format(provider=provider.name))
        link.last_used_at = utcnow()
        link.email = identity.email
        self.providers.sync_groups(s, provider, user, identity.groups)
        amr = amr or session_amr(identity.amr)
        if "mfa" not in identity.amr and self.second_step.required_of(s, user):
            return SecondStepNeeded(self.second_step.step_up(s, user, first=amr), next_url)
        audit.record(s, "login.succeeded", user_id=user.id, subject=user.username,
                     details={"amr": " ".join(amr), "factor": factor, "provider": provider.name})
        return SignedIn(Started(self.sessions.start(s, user, replacing=replacing, amr=amr)), next_url)

    def _linkable(self, s: Session, provider: ProviderView, identity: Identity):
        if not (provider.link_verified_email and identity.email_verified and identity.email):
            return None
        user = self.users.by_email(s, identity.email)
        if user is None or user.email_verified_at is None or not same_address(user.email, identity.email):
            return None
        return user

    def _link(self, s: Session, provider: ProviderView, identity: Identity, user) -> FederatedIdentity:
        link = FederatedIdentity(provider_id=provider.id, subject=identity.subject, user_id=user.id,
                                 email=identity.email)
        self.store.add(s, link)
        return link

    def _create(self, s: Session, provider: ProviderView, identity: Identity):
        if not identity.email:
            return self._refused(s, provider, "it gave no email address for a new account", "/", stage="account",
                                 plain=f"{provider.name} did not tell authgate your email address, which a new "
                                       "account needs. Ask an administrator for an account.")
        if self.users.identifier_taken(s, identity.email):
            return self._refused(s, provider, "its email is already a local account's, unlinked", "/",
                                 stage="account",
                                 plain=f"An account here already uses the address {identity.email}. "
                                       + LINK_LOCALLY.format(provider=provider.name))
        username = self._free_username(s, identity)
        try:
            user = self.users.create(s, username, identity.email, None, firstname=identity.given_name,
                                     lastname=identity.family_name, federated=True,
                                     email_verified=identity.email_verified)
        except ServiceError as why:
            return self._refused(s, provider, f"the new account was refused: {why}", "/", stage="account",
                                 plain=f"authgate could not make an account from your {provider.name} details: {why}.")
        link = self._link(s, provider, identity, user)
        audit.record(s, "federation.user_created", user_id=user.id, subject=user.username,
                     details={"provider": provider.name, "email_verified": identity.email_verified})
        return user, link

    def _free_username(self, s: Session, identity: Identity) -> str:
        wanted = identity.preferred_username or identity.email.partition("@")[0]
        base = re.sub(r"\s+", "-", wanted.strip())[:200] or "user"
        candidate, n = base, 1
        while self.users.identifier_taken(s, candidate):
            n += 1
            candidate = f"{base}-{n}"
        return candidate

    @staticmethod
    def _refused(s: Session, provider: ProviderView, reason: str, next_url: str, *, stage: str,
                 user_id: int | None = None, plain: str | None = None) -> Refused:
        audit.record(s, "federation.refused", user_id=user_id, subject=provider.name,
                     details={"stage": stage, "reason": reason[:200]})
        return Refused(plain or f"Signing in with {provider.name} did not work: {reason}.", next_url)
