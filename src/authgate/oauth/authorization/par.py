"""Pushed authorization requests (RFC 9126): ``POST /oauth/par`` and the ``request_uri`` that stands for the
pushed parameters at ``/oauth/authorize``.

The push is authenticated as at the token endpoint (``AuthorizationServer.authenticate_client``; a public client
names itself with ``client_id``) and validated as the authorization endpoint validates a request (the same
``consent_grant``: client, redirect URI, response type, scope, PKCE, OpenID Connect), so a request that could
not be authorized is refused now, in OAuth JSON (§2.3), rather than on a page later. A ``request_uri`` inside a
push is refused (§2.1). A push may carry a signed request object instead (§3, ``oauth/authorization/request_objects.py``): then
only its parameters count. A DPoP proof sent with the push binds the code to its key, as ``dpop_jkt`` does
(RFC 9449 §10.1).

At the authorization endpoint, ``pushed_request`` swaps the browser's request (``client_id`` and
``request_uri``) for the pushed one: nothing else in the query counts (§4). The pushed request's lifetime and
one-time use are ``services/credentials/pushed_requests.py``'s; the decisions (``oauth/authorization/decisions.py``) end it.
"""

from __future__ import annotations

from authlib.oauth2.rfc6749 import InvalidRequestError, OAuth2Error

from authgate.oauth import fapi
from authgate.oauth.authorization import request_objects
from authgate.oauth.context import bound
from authgate.oauth.dpop import DpopError
from authgate.oauth.endpoints.metadata import PATHS
from authgate.oauth.errors import DpopProofError
from authgate.oauth.grants.base import AuthgateGrant
from authgate.oauth.requests import OAuthRequest
from authgate.services.credentials.pushed_requests import REQUEST_URI_PREFIX, Pushed

ENDPOINT = "pushed_authorization"
CLIENT_AUTHENTICATION = ("client_secret", "client_assertion", "client_assertion_type")
"""Form fields that authenticate the push and are no part of the authorization request."""
Response = tuple[int, object, list[tuple[str, str]]]


class InvalidRequestUriError(OAuth2Error):
    """The ``request_uri`` is unknown, expired, used, or another client's (RFC 9126 §4; RFC 9101 §7)."""

    error = "invalid_request_uri"


def _json_error(error: OAuth2Error) -> Response:
    """The error as OAuth JSON (§2.3), never a redirect: the push comes from the client, not a browser."""
    error.redirect_uri = None
    status, body, headers = error()
    return status, dict(body), headers


def _dpop_key(server, request: OAuthRequest, client) -> str | None:
    values = request.headers.getlist("dpop")
    if not values:
        return None
    try:
        proof = server.dpop.checker.check(values, "POST", request.uri)
    except DpopError as error:
        raise DpopProofError(error.error, error.description, server.dpop.nonce_for(error)) from None
    fapi.check_proof_algorithm(server, client, proof.alg)
    return proof.jkt


def push(server, request: OAuthRequest) -> Response:
    """``POST /oauth/par``: 201 with ``request_uri`` and ``expires_in`` (§2.2), or an OAuth error (§2.3)."""
    refused = server._refuse_unreadable(request)
    if refused:
        return refused
    throttled = server._throttle(request)
    if throttled:
        return _json_error(throttled)
    runtime = server.runtime
    with runtime.db.session() as s, bound(s):
        request.db = s
        try:
            client = server.authenticate_client(request, AuthgateGrant.TOKEN_ENDPOINT_AUTH_METHODS, ENDPOINT)
            form = [(name, value) for name, value in request.form_pairs if name not in CLIENT_AUTHENTICATION]
            form = request_objects.at_push(server, client, form)
            if any(name == "request_uri" for name, _ in form):
                raise InvalidRequestError("A pushed authorization request must not contain 'request_uri' "
                                          "(RFC 9126 section 2.1).")
            claimed = [value for name, value in form if name == "client_id"]
            if any(value != client.get_client_id() for value in claimed):
                raise InvalidRequestError("'client_id' is not the client that authenticated.")
            if not claimed:
                form.insert(0, ("client_id", client.get_client_id()))
            fapi.check_push(server, client, form)
            jkt = _dpop_key(server, request, client)
            asked = [value for name, value in form if name == "dpop_jkt"]
            if jkt and asked and asked[0] != jkt:
                raise DpopProofError("invalid_dpop_proof", "'dpop_jkt' is not the key of the DPoP proof.")
            if jkt and not asked:
                form.append(("dpop_jkt", jkt))
            authorization = OAuthRequest(s, "GET", runtime.settings.issuer + PATHS["authorization_endpoint"],
                                         request.headers, form, [], "query")
            server.consent_grant(authorization, None)
        except OAuth2Error as error:
            return _json_error(error)
        except ValueError:
            return _json_error(InvalidRequestError("The request has characters that cannot be handled."))
        request_uri, expires_in = runtime.pushed_requests.push(s, client.row.id, form)
    return 201, {"request_uri": request_uri, "expires_in": expires_in}, []


def pushed_request(server, request: OAuthRequest) -> tuple[Pushed, OAuthRequest] | None:
    """The pushed request the browser's ``request_uri`` stands for, as the request to decide (§4); None when
    the browser's request names none (a ``request_uri`` of another kind is the code grant's to refuse:
    ``request_uri_not_supported``). Raises ``OAuth2Error`` (never redirected) when it cannot be used."""
    data = request.payload.data
    if not (data.get("request_uri") or "").startswith(REQUEST_URI_PREFIX):
        return None
    if request.payload.repeated():
        raise InvalidRequestError("Parameter repeated.")
    with bound(request.db):
        client = server.query_client(data.get("client_id") or "")
    if client is None:
        raise InvalidRequestError("Send 'client_id' with 'request_uri': an unknown or missing client.")
    pushed = server.runtime.pushed_requests.open(request.db, data["request_uri"], client.row.id)
    if pushed is None:
        raise InvalidRequestUriError("The request_uri is unknown, expired, already used or not this client's.")
    return pushed, OAuthRequest(request.db, request.method, request.uri, request.headers, pushed.parameters, [],
                                "query", client_ip=request.client_ip)


def pushed_only(request: OAuthRequest) -> list[tuple[str, str]]:
    """The query a round trip of a pushed authorization carries: ``client_id`` and ``request_uri`` alone."""
    data = request.payload.data
    return [("client_id", data["client_id"]), ("request_uri", data["request_uri"])]
