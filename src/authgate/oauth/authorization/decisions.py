"""Authorization decisions: what the authorization endpoint answers a browser (RFC 6749 §4.1.1-4.1.2,
OpenID Connect Core §3.1.2.1-3.1.2.6), as Spring Authorization Server's consent provider or fosite's
authorize handler.

``decide_authorization`` takes the authorization request, the browser's sign-in session (or None)
and the user's choice on the consent page (None before it was shown) and returns one outcome:
``SignInNeeded`` (and where to come back), ``SecondFactorNeeded`` (``acr_values`` asked for a second factor the
session lacks: a pending sign-in for the second step or its enrolment), ``ConsentNeeded`` (what to show), ``Refused`` (an error
for the client), ``Unreadable``, or ``Answered`` (the redirect with a code or ``access_denied``).
It reads and records remembered consent, applies ``prompt``, ``max_age`` and ``acr_values``, and audits the answer.
Consent is remembered per scope set only: a request naming resources (RFC 8707) always shows the page,
which names them, and approving it remembers nothing.
A request by ``request_uri`` (RFC 9126 §4) is decided on its pushed parameters (``oauth/authorization/par.py``), its round
trips carry only ``client_id`` and ``request_uri``, and the pushed request ends with the answer. A request object
(RFC 9101, ``oauth/authorization/request_objects.py``) is decided on its verified parameters, kept as a pushed request is
(``front_channel``, which does not count as pushed) for the round trips, so it is verified once.
The adapter only converts the HTTP request and renders the outcome; CSRF stays in the adapter.
The device approval page (``oauth/authorization/device_approval.py``) answers with the same outcomes.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from authlib.oauth2.rfc6749 import InvalidRequestError, OAuth2Error

from authgate.oauth import fapi
from authgate.oauth.authorization import request_objects
from authgate.oauth.authorization.par import pushed_only, pushed_request
from authgate.oauth.endpoints.metadata import PATHS
from authgate.oauth.grants.openid import second_factor_needed, sign_in_needed
from authgate.oauth.requests import OAuthRequest
from authgate.services.accounts.sessions.sessions import SignedIn
from authgate.services.accounts.sign_in.second_step import Pending
from authgate.services.credentials import scopes as scope_rules
from authgate.storage.types import utcnow

APPROVE = "approve"


@dataclass(frozen=True)
class SignInNeeded:
    """The user must sign in (again), then come back to ``return_to`` (a path with its query)."""

    return_to: str
    login_hint: str | None = None


@dataclass(frozen=True)
class SecondFactorNeeded:
    """The session has one factor and the client asked for two: the pending sign-in to carry to the second step
    (or to enrolment), then back to ``return_to``."""

    return_to: str
    pending: Pending


@dataclass(frozen=True)
class ConsentNeeded:
    """The consent page: ``scopes`` as (name, description) pairs; the choice is posted to ``action``."""

    signed_in: SignedIn
    client_name: str
    scopes: list[tuple[str, str]]
    action: str
    redirect_uri: str | None = None
    user_code: str | None = None
    made_by: str | None = None
    """The username of who registered the client (None: the operator, from the command line)."""
    self_registered: bool = False
    """The client registered itself (RFC 7591): nobody here vouches for it."""
    resources: tuple[tuple[str, str], ...] = ()
    """The APIs the tokens will be for (RFC 8707), as (name, identifier)."""
    shown: str = ""
    """The ``fingerprint`` of the client as the page shows it, sent back with the answer (``still_as_shown``)."""


@dataclass(frozen=True)
class Refused:
    """An error for the client: redirected to it when ``error.redirect_uri`` was checked, otherwise shown."""

    error: OAuth2Error


@dataclass(frozen=True)
class Unreadable:
    """The request has characters that cannot be handled."""


@dataclass(frozen=True)
class Answered:
    """The user's answer, or their remembered consent, goes back to the client at ``location``."""

    location: str


def without_reauthentication(query: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The request to come back to after signing in: ``prompt=login`` and ``max_age`` are then satisfied."""
    kept = []
    for name, value in query:
        if name == "max_age":
            continue
        if name == "prompt":
            value = " ".join(p for p in value.split() if p != "login")
            if not value:
                continue
        kept.append((name, value))
    return kept


def decide_authorization(server, request: OAuthRequest, signed_in: SignedIn | None, choice: str | None,
                         shown: str | None = None):
    """The outcome of an authorization request; ``choice`` is the consent page's ``decision`` once posted, ``shown``
    the client's fingerprint the page carried (an approval of a client changed since is shown the page again)."""
    runtime = server.runtime
    try:
        found = pushed_request(server, request)
        signed = None if found else request_objects.at_authorization(server, request)
    except OAuth2Error as error:
        return Refused(error)
    except ValueError:
        return Unreadable()
    if signed:
        client, parameters = signed
        request_uri, kept = runtime.pushed_requests.keep_front_channel(request.db, client.row.id, parameters)
        query = [("client_id", client.get_client_id()), ("request_uri", request_uri)]
        found = kept, OAuthRequest(request.db, request.method, request.uri, request.headers, parameters, [], "query",
                                   client_ip=request.client_ip)
    else:
        query = pushed_only(request) if found else without_reauthentication(request.query_pairs)
    pushed = found[0] if found else None
    if found:
        request = found[1]
    outcome = _decide(server, request, signed_in, choice, pushed,
                      PATHS["authorization_endpoint"] + "?" + urlencode(query), shown)
    if pushed and isinstance(outcome, SignInNeeded):
        runtime.pushed_requests.sign_in_asked(request.db, pushed, without_reauthentication(request.query_pairs))
    ended = isinstance(outcome, Answered) or (isinstance(outcome, Refused) and outcome.error.redirect_uri) \
        or (signed and not isinstance(outcome, (SignInNeeded, SecondFactorNeeded, ConsentNeeded)))
    if pushed and ended:
        runtime.pushed_requests.finish(request.db, pushed)
    return outcome


def _must_push(server, client) -> bool:
    return server.runtime.settings.require_par or client.require_par or fapi.must_push(server, client)


def _decide(server, request: OAuthRequest, signed_in: SignedIn | None, choice: str | None, pushed, return_to: str,
            shown: str | None = None):
    """The decision on the request (the pushed one when there is one); ``return_to`` is where the browser comes
    back: for a pushed request only ``client_id`` and ``request_uri``, so a sign-in the pushed request asked for
    (``prompt=login``, ``max_age``) is recorded on it instead (``sign_in_after``), never asked again after it."""
    runtime = server.runtime
    user = signed_in.user if signed_in else None
    try:
        grant = server.consent_grant(request, user)
    except OAuth2Error as error:
        return Refused(error)
    except ValueError:
        return Unreadable()
    client = grant.client.row
    if (pushed is None or pushed.front_channel) and _must_push(server, client):
        return Refused(InvalidRequestError(
            "This client must push its authorization requests (RFC 9126 section 5): send client_id and the "
            "request_uri from the pushed authorization request endpoint."))
    if pushed is None and request_objects.must_sign(server, grant.client):
        return Refused(InvalidRequestError(
            "This client must send its authorization requests as signed request objects "
            "(require_signed_request_object, RFC 9101 section 10.5): send client_id and request."))
    requested = scope_rules.parse(request.scope)
    scopes = requested or scope_rules.default_for_client(client.scopes)
    resources = grant.target.resources if grant.target else ()
    remembered = choice is None and user is not None and not resources \
        and "consent" not in (request.payload.data.get("prompt") or "").split() \
        and runtime.consents.covers(request.db, user.id, client.id, scopes)
    try:
        must_sign_in = sign_in_needed(
            request, signed_in.auth_time if signed_in else None, utcnow(), consent_remembered=remembered,
        ) if "openid" in requested else signed_in is None
    except OAuth2Error as error:
        return Refused(error)
    if pushed and pushed.sign_in_after and signed_in and signed_in.auth_time < pushed.sign_in_after:
        must_sign_in = True
    if must_sign_in:
        return SignInNeeded(return_to, request.payload.data.get("login_hint"))
    try:
        step_up = second_factor_needed(request, signed_in.amr)
    except OAuth2Error as error:
        return Refused(error)
    if step_up:
        return SecondFactorNeeded(return_to, runtime.second_step.step_up(request.db, user, signed_in.amr or ("pwd",)))
    request.auth_time = signed_in.auth_time
    request.amr = signed_in.amr
    request.session_record_id = signed_in.record_id
    if choice == APPROVE and not runtime.consents.still_as_shown(request.db, client.id, shown):
        choice = None  # the client changed while its page was open: the user approves what it is now, or not
    if choice is None and not remembered:
        maker = runtime.users.get(request.db, client.owner_id) if client.owner_id else None
        return ConsentNeeded(signed_in, client.name, scope_rules.describe(requested), return_to, grant.redirect_uri,
                             made_by=maker.username if maker else None, self_registered=client.registered,
                             resources=tuple((r.name, r.identifier) for r in resources), shown=runtime.consents.fingerprint(request.db, client.id))
    approved = choice == APPROVE or (choice is None and remembered)
    if choice == APPROVE and not resources:
        runtime.consents.remember(request.db, user.id, client.id, scopes)
    location = server.authorization_response(request, grant, user if approved else None)
    runtime.consents.record_answer(request.db, user.id, grant.client.get_client_id(), approved, request.scope)
    return Answered(location)
