"""Token introspection (RFC 7662) on Authlib's ``IntrospectionEndpoint``.

Only confidential clients may ask, and only about the tokens they may manage (their own, and
their owner's personal access tokens); any other token is just ``{"active": false}`` (§2.2).

``answer_from_memory`` is tried first, with no session at all: a cached confidential client with its
secret asking about a JWT access token that the bearer cache knows gets the endpoint's answer on the
event loop. Anything else (a client or token not cached, any other kind of token, a token asked for
resources, whose resource servers decide, a request the endpoint would refuse) is None, and the
endpoint runs with a session.
"""

from __future__ import annotations

from authlib.consts import default_json_headers
from authlib.oauth2.rfc6749 import InvalidClientError
from authlib.oauth2.rfc7662 import IntrospectionEndpoint as AuthlibIntrospection

from authgate.oauth.clients.client_auth import basic_credentials
from authgate.oauth.context import current_db
from authgate.oauth.models import OAuthPresentedToken
from authgate.oauth.requests import ParamsPayload
from authgate.services.credentials.token_lookup import INACTIVE

CLIENT_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "private_key_jwt"]


def answer_from_memory(runtime, headers, form: list[tuple[str, str]]) -> tuple[int, dict, list] | None:
    """The introspection response (RFC 7662 §2.2) to a request with these headers and form when memory alone
    gives it, else None."""
    payload = ParamsPayload(form)
    if payload.repeated():
        return None
    try:
        client_id, secret = basic_credentials(headers)
    except InvalidClientError:
        return None
    fields = payload.data
    if client_id is None:
        client_id, secret = fields.get("client_id"), fields.get("client_secret")
    token = fields.get("token")
    if not (client_id and secret and token):
        return None
    client = runtime.clients.remembered(client_id)
    if client is None or client.public or not runtime.clients.check_secret(client, secret):
        return None
    lookup = runtime.token_lookup
    presented = lookup.remembered(token)
    if presented is None or (presented is not INACTIVE and for_resources(presented.claims)):
        return None
    if presented is INACTIVE or not lookup.may_manage(presented, client):
        return 200, {"active": False}, default_json_headers
    return 200, lookup.describe_remembered(presented), default_json_headers


def for_resources(claims: dict) -> bool:
    """A token asked for resources (RFC 8707): its resources say whether introspection may describe it."""
    return isinstance(claims.get("aud"), list)


class IntrospectionEndpoint(AuthlibIntrospection):
    CLIENT_AUTH_METHODS = CLIENT_AUTH_METHODS

    def check_params(self, request, client):
        """Any ``token_type_hint`` is accepted: the search covers every kind of token anyway (§2.1)."""
        if "token" not in request.form:
            super().check_params(request, client)

    def query_token(self, token_string, token_type_hint):
        return OAuthPresentedToken.find(self.server.runtime, current_db(), token_string, memory_first=True)

    def check_permission(self, token: OAuthPresentedToken, client, request) -> bool:
        """The client's own token, and, for a token asked for resources, one whose every resource lets
        introspection describe its tokens."""
        if not token.check_client(client):
            return False
        claims = token.presented.claims
        return not (claims and for_resources(claims)) or \
            self.server.runtime.resources.introspection_allowed(current_db(), claims["aud"])

    def introspect_token(self, token: OAuthPresentedToken) -> dict:
        return token.describe()
