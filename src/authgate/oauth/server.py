"""The authorization server: Authlib's ``AuthorizationServer`` wired to authgate's services.

The grants come from ``oauth/grants/registry.py`` (each names its own Authlib extensions, as the
code grant does PKCE and OpenID Connect), so adding a grant is one module and one line there. Each
grant gets its services at registration (``GrantServices``, its first extension), and every token
comes from the one generator registered with Authlib's hook (``oauth/issuing.py``). What is
registered is kept as it is registered (``registered_grants``, ``registered_endpoints``), so the
metadata reads it without Authlib's private attributes.
"""

from __future__ import annotations

import re

from authlib.common.urls import add_params_to_uri
from sqlalchemy.exc import OperationalError
from authlib.oauth2 import AuthorizationServer as AuthlibServer
from authlib.oauth2.rfc6749 import (
    InvalidClientError,
    InvalidRequestError,
    InvalidScopeError,
    OAuth2Error,
    UnsupportedGrantTypeError,
    UnsupportedResponseTypeError,
)

from authgate.oauth import fapi
from authgate.oauth.authorization.request_objects import RequestObjects
from authgate.oauth.clients.client_assertion import PrivateKeyJwt
from authgate.oauth.clients.client_auth import authenticate_basic, basic_credentials, secret_post_or_secret_only
from authgate.oauth.context import bound, current_db
from authgate.oauth.dpop import Dpop, DpopError
from authgate.oauth.endpoints.device import DeviceAuthorizationEndpoint
from authgate.oauth.endpoints.introspection import IntrospectionEndpoint
from authgate.oauth.endpoints.revocation import RevocationEndpoint
from authgate.oauth.errors import DpopProofError, TooManyRequestsError, repeated_parameters
from authgate.oauth.grants.base import GrantServices
from authgate.oauth.grants.registry import TOKEN_GRANTS
from authgate.oauth.issuing import TokenGenerator
from authgate.oauth.models import OAuthClient
from authgate.oauth.requests import OAuthRequest
from authgate.services.applications import client_limits
from authgate.services.applications.metadata_documents import DocumentRefused
from authgate.services.credentials import scopes as scope_rules
from authgate.services.credentials.tokens import ClientChanged
from authgate.services.operations.ratelimit import TooManyAttempts
from authgate.storage.db import Database, lost_to_a_concurrent_write

Response = tuple[int, object, list[tuple[str, str]]]


def _claimed_client_id(request: OAuthRequest) -> str:
    """The client id a request claims (HTTP Basic or ``client_id``), authenticated or not."""
    try:
        basic_id = basic_credentials(request.headers)[0]
    except InvalidClientError:
        basic_id = None
    return basic_id or request.form.get("client_id") or PrivateKeyJwt.assertion_client_id(request.form) or ""


WRITE_ATTEMPTS = 3
"""How often a grant runs when PostgreSQL ends its transaction for a deadlock or a serialization failure (concurrent
uses of one refresh token, say: the winner's rotation and the others' reuse revocation lock the same rows in turn).
Nothing of a rolled-back attempt stays, so the grant runs again from the start; the next attempt sees what the
winner committed (a rotated token: the reuse rule)."""


class AuthorizationServer(AuthlibServer):
    SENDS_ISS_IN_AUTHORIZATION_RESPONSE = True

    def __init__(self, runtime):
        super().__init__(scopes_supported=sorted(scope_rules.KNOWN))
        self.runtime = runtime
        self.dpop = Dpop(runtime.proof_memory, runtime.settings)
        self.registered_grants: list[tuple[type, list]] = []
        self.registered_endpoints: dict[str, list] = {}
        self.register_token_generator("default", TokenGenerator(runtime.tokens))
        services = GrantServices.of(runtime)
        for grant in TOKEN_GRANTS:
            if grant.enabled(runtime.settings):
                self.register_grant(grant, [services, *grant.extensions(services)])
        self.register_client_auth_method("client_secret_basic", authenticate_basic)
        self.register_client_auth_method("client_secret_post", secret_post_or_secret_only(self._client_by_secret))
        settings = runtime.settings
        self.private_key_jwt = PrivateKeyJwt(settings.issuer, settings.issuer + "/oauth/token",
                                             runtime.assertion_memory, runtime.fetcher,
                                             strict=fapi.strict_assertions(settings))
        self.register_client_auth_method("private_key_jwt", self.private_key_jwt)
        self.request_objects = RequestObjects(settings.issuer, runtime.request_object_memory, runtime.fetcher)
        self.register_endpoint(RevocationEndpoint)
        self.register_endpoint(IntrospectionEndpoint)
        self.register_endpoint(DeviceAuthorizationEndpoint)

    def register_grant(self, grant_cls, extensions=None):
        super().register_grant(grant_cls, extensions)
        self.registered_grants.append((grant_cls, list(extensions or ())))

    def register_endpoint(self, endpoint):
        super().register_endpoint(endpoint)
        self.registered_endpoints.setdefault(endpoint.ENDPOINT_NAME, []).append(endpoint)

    def query_client(self, client_id: str) -> OAuthClient | None:
        view = self.runtime.clients.view(current_db(), client_id)
        return OAuthClient(view, self.runtime.clients) if view else None

    def _client_by_secret(self, request: OAuthRequest, secret: str) -> OAuthClient | None:
        view = self.runtime.clients.by_secret(request.db, secret)
        return OAuthClient(view, self.runtime.clients) if view else None

    def authenticate_client(self, request, methods, endpoint="token"):
        """As Authlib, but a failed client authentication is always 401 with ``WWW-Authenticate`` (RFC 6749 §5.2).

        On the token and device authorization endpoints, failures count per claimed client id and
        address, and the per-client limit counts only a client that authenticated (``ClientLimits``). A client
        that must use DPoP (RFC 9449 §5.2) is refused here, without a proof, before its grant spends anything;
        so is a FAPI 2.0 client's request that breaks the profile (``oauth/fapi.py``).
        """
        limits = self.runtime.client_limits
        watched = limits.watches(endpoint)
        claimed = _claimed_client_id(request)
        try:
            if watched:
                limits.before_authentication(claimed, request.client_ip)
            try:
                client = super().authenticate_client(request, methods, endpoint)
            except InvalidClientError as error:
                if watched:
                    limits.failed(claimed, request.client_ip)
                error.status_code = 401
                error.description = "Client authentication failed: unknown client, wrong secret or wrong method."
                raise
            if watched:
                limits.authenticated(endpoint, client.get_client_id(), client.row.public, request.client_ip)
        except TooManyAttempts as refused:
            raise TooManyRequestsError(str(refused), refused.retry_after) from None
        if endpoint == "token" and client.row.require_dpop and not request.dpop_jkt:
            raise DpopProofError("invalid_dpop_proof", "This client must send a DPoP proof with every token "
                                 "request (dpop_bound_access_tokens, RFC 9449 section 5.2).")
        fapi.check_authenticated(self, request, client, endpoint)
        return client

    def validate_requested_scope(self, scope):
        if scope and any(s not in scope_rules.KNOWN for s in scope_rules.parse(scope)):
            raise InvalidScopeError("The requested scope is unknown.")

    def create_oauth2_request(self, request: OAuthRequest) -> OAuthRequest:
        return request

    def handle_response(self, status, body, headers) -> Response:
        return status, body, headers

    def send_signal(self, name, *args, **kwargs):
        pass

    def _refuse_unreadable(self, request: OAuthRequest) -> Response | None:
        """Repeated parameters (RFC 6749 §3.1), and Basic credentials that cannot be decoded (§2.3.1: ``invalid_client``)."""
        repeated = request.payload.repeated()
        if repeated:
            return self.handle_error_response(request, repeated_parameters(repeated))
        try:
            basic_credentials(request.headers)
        except InvalidClientError as error:
            return self.handle_error_response(request, error)
        return None

    def token_response(self, db: Database, request: OAuthRequest) -> Response:
        """The token endpoint (RFC 6749 §3.2): unreadable and throttled requests are refused before any
        database work. A grant that ``AUTHENTICATES_IN_READ`` authenticates the client and the user in a
        read transaction, so password checks run side by side; the write transaction then only persists."""
        refused = self._refuse_unreadable(request)
        if refused:
            return refused
        if not request.payload.grant_type:
            return self.handle_error_response(request, InvalidRequestError("Missing 'grant_type' parameter."))
        throttled = self._throttle(request)
        if throttled:
            return self.handle_error_response(request, throttled)
        refused = self._document_refused(db, request)
        if refused:
            return self.handle_error_response(request, refused)
        refused = self._proof_refused(request)
        if refused:
            return self.handle_error_response(request, refused)
        try:
            grant = self.get_token_grant(request)
        except UnsupportedGrantTypeError as error:
            return self.handle_error_response(request, error)
        for attempt in range(1, WRITE_ATTEMPTS + 1):
            try:
                return self._token_response(db, request, grant)
            except ClientChanged:
                return self.handle_error_response(request, InvalidClientError(
                    status_code=401, description="The client was disabled, deleted or given a new secret."))
            except OperationalError as error:
                if attempt == WRITE_ATTEMPTS or not lost_to_a_concurrent_write(error):
                    raise
                grant = self.get_token_grant(request)

    def _token_response(self, db: Database, request: OAuthRequest, grant) -> Response:
        """The grant's answer; raises ``ClientChanged`` (nothing written) when the client changed meanwhile."""
        refusal = None
        if grant.INSERTS_ONLY:
            return self._inserting_token_response(db, request, grant)
        if grant.AUTHENTICATES_IN_READ:
            with db.session(write=False) as s, bound(s):
                request.db = s
                refusal = self._refusal(grant.validate_token_request)
        with db.session() as s, bound(s):
            request.db = s
            grant.record_authentication()
            if not grant.AUTHENTICATES_IN_READ:
                refusal = self._refusal(grant.validate_token_request)
            if refusal is None:
                try:
                    status, body, headers = grant.create_token_response()
                    nonce = self.dpop.fresh_nonce() if request.dpop_jkt else None
                    return self.handle_response(status, body, headers + ([("DPoP-Nonce", nonce)] if nonce else []))
                except OAuth2Error as error:
                    refusal = error
            return self.handle_error_response(request, refusal)

    def _inserting_token_response(self, db: Database, request: OAuthRequest, grant) -> Response:
        """A grant that only reads, then only inserts (``INSERTS_ONLY``): validated and answered in a read
        transaction whose inserts are held back, then written in one short write transaction (on PostgreSQL
        shared with concurrent requests': ``Database.write_deferred``) before the answer leaves; a refused request writes
        nothing."""
        with db.session(write=False) as s, bound(s):
            request.db = s
            refusal = self._refusal(grant.validate_token_request)
            if refusal is None:
                deferred = db.defer_inserts(s)
                try:
                    status, body, headers = grant.create_token_response()
                except OAuth2Error as error:
                    refusal = error
        if refusal is not None:
            return self.handle_error_response(request, refusal)
        db.write_deferred(deferred)
        nonce = self.dpop.fresh_nonce() if request.dpop_jkt else None
        return self.handle_response(status, body, headers + ([("DPoP-Nonce", nonce)] if nonce else []))

    @staticmethod
    def _refusal(validate) -> OAuth2Error | None:
        try:
            validate()
        except OAuth2Error as error:
            return error
        return None

    def endpoint_response(self, name: str, request: OAuthRequest) -> Response:
        """A registered endpoint (``revocation``, ``introspection``, ``device_authorization``), unreadable requests refused."""
        with bound(request.db):
            refused = self._refuse_unreadable(request)
            if refused:
                return refused
            return self.create_endpoint_response(name, request)

    def _proof_refused(self, request: OAuthRequest) -> DpopProofError | None:
        """Check the request's DPoP proof, if it has one (RFC 9449 §5), before any database work; its key
        is then what the tokens are bound to (``request.dpop_jkt``)."""
        values = request.headers.getlist("dpop")
        if not values:
            return None
        dpop = self.dpop
        try:
            proof = dpop.checker.check(values, "POST", request.uri)
            request.dpop_jkt, request.dpop_alg = proof.jkt, proof.alg
        except DpopError as error:
            return DpopProofError(error.error, error.description, dpop.nonce_for(error))
        return None

    def _document_refused(self, db: Database, request: OAuthRequest) -> InvalidClientError | None:
        """A ``client_id`` URL's Client ID Metadata Document read (and its client row made or updated) before
        the grant looks the client up; after the per-address limit, so the endpoint fetches no faster."""
        documents = self.runtime.metadata_documents
        claimed = _claimed_client_id(request)
        if not documents.applies(claimed):
            return None
        try:
            with db.session() as s:
                documents.resolve(s, claimed)
        except DocumentRefused as refused:
            said = re.sub(r'[^\x20\x21\x23-\x5b\x5d-\x7e]', "?", str(refused))
            return InvalidClientError(status_code=401,
                                      description=f"The client metadata document at client_id is refused: {said}")
        return None

    def _throttle(self, request: OAuthRequest) -> TooManyRequestsError | None:
        """The token endpoint's per-address limit, before any database work."""
        try:
            self.runtime.client_limits.request(client_limits.TOKEN, request.client_ip)
        except TooManyAttempts as refused:
            return TooManyRequestsError(str(refused), refused.retry_after)
        return None

    def consent_grant(self, request: OAuthRequest, user):
        """Validate an authorization request (RFC 6749 §4.1.1); raises ``OAuth2Error``."""
        with bound(request.db):
            try:
                return self.get_consent_grant(request, end_user=user)
            except UnsupportedResponseTypeError as error:
                if request.payload.response_type:
                    raise
                raise InvalidRequestError(
                    "Missing 'response_type' parameter.", redirect_uri=error.redirect_uri, state=request.payload.state
                ) from None

    def authorization_response(self, request: OAuthRequest, grant, user) -> str:
        """Where to send the browser back: with a code, or ``access_denied`` when ``user`` is None."""
        with bound(request.db):
            _, _, headers = self.create_authorization_response(request, grant_user=user, grant=grant)
        return self._with_issuer(dict(headers)["Location"])

    def error_redirect(self, error: OAuth2Error) -> str:
        """The redirect for an error found once the redirect URI was trusted (RFC 6749 §4.1.2.1)."""
        _, _, headers = error()
        return self._with_issuer(dict(headers)["Location"])

    def _with_issuer(self, location: str) -> str:
        """Every authorization response, success or error, names the issuer (RFC 9207 §2)."""
        return add_params_to_uri(location, [("iss", self.runtime.settings.issuer)])
