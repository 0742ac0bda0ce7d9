"""The authorization code grant (RFC 6749 §4.1) with single-use codes bound to client and redirect URI."""

from __future__ import annotations

from authlib.oauth2.rfc6749 import grants
from authlib.oidc.core.errors import RequestURINotSupportedError

from authgate.oauth import resources as targets
from authgate.oauth.errors import DpopProofError, repeated_parameters
from authgate.oauth.grants import specs
from authgate.oauth.grants.base import AuthgateGrant
from authgate.oauth.grants.openid import OpenIDCode
from authgate.oauth.grants.pkce import S256CodeChallenge
from authgate.oauth.models import OAuthCode
from authgate.security import secrets as gen
from authgate.storage.models import TokenFamily, User


UNTRUSTED_IF_REPEATED = ("client_id", "redirect_uri", "response_type")


def refuse_request_uri(data: dict) -> None:
    """A ``request_uri`` PAR did not issue (OpenID Connect Core §6.2, RFC 9101 §5.2) is not fetched: say so
    rather than ignore parameters the client meant to be authoritative. (A ``request`` never gets here: the
    request object's parameters replaced it, ``oauth/authorization/request_objects.py``.)"""
    if "request_uri" in data:
        raise RequestURINotSupportedError("The 'request_uri' parameter is supported only as issued by the pushed "
                                          "authorization request endpoint.")


class AuthorizationCodeGrant(AuthgateGrant, grants.AuthorizationCodeGrant):
    SPEC = specs.AUTHORIZATION_CODE

    @classmethod
    def extensions(cls, services) -> list:
        return [S256CodeChallenge(required=True), OpenIDCode(services)]

    @staticmethod
    def validate_no_multiple_request_parameter(request):
        """Repeats that leave the redirect target in doubt get an error page, never a redirect (RFC 6749 §3.1)."""
        repeated = [name for name in UNTRUSTED_IF_REPEATED if len(request.payload.datalist.get(name, [])) > 1]
        if repeated:
            raise repeated_parameters(repeated)

    def validate_requested_scope(self):
        """Runs once the redirect URI is trusted, so these errors go back to the client (RFC 6749 §4.1.2.1).

        A ``request_uri`` not from PAR is refused here too (OpenID Connect Core §6.2), so the client learns why.
        The scope itself is judged by the client's ``get_allowed_scope`` (invalid_scope); with ``resource``
        (RFC 8707 §2), against what those resources define, once they are known (else invalid_target).
        """
        repeated = self.request.payload.repeated()
        if repeated:
            raise repeated_parameters(repeated)
        refuse_request_uri(self.request.payload.data)
        asked = self.requested_resources()
        if asked:
            client = self.request.client
            self.target = targets.for_new_grant(self.services.resources, self.request.db, asked,
                                                self.request.payload.scope, client.row.scopes)
            client.resources = self.target.resources

    def generate_authorization_code(self) -> str:
        return gen.generate()

    def save_authorization_code(self, code: str, request) -> None:
        data = request.payload.data
        self.services.codes.create(
            request.db,
            code,
            client=request.client.row,
            user=request.user,
            redirect_uri=request.payload.redirect_uri or "",
            scope=request.scope or "",
            code_challenge=data.get("code_challenge"),
            code_challenge_method=data.get("code_challenge_method"),
            nonce=data.get("nonce"),
            auth_time=getattr(request, "auth_time", None),
            amr=getattr(request, "amr", ()),
            resources=self.granted_resources(),
            session_id=getattr(request, "session_record_id", None),
            dpop_jkt=data.get("dpop_jkt"),
        )

    def validate_token_request(self):
        """Authlib's checks of the code, then its resources: those asked for now must be among those
        authorized at the authorization endpoint (RFC 8707 §2.2); none asked: all of them."""
        super().validate_token_request()
        code = self.request.authorization_code.row
        self.target = targets.within_grant(self.services.resources, self.request.db, self.requested_resources(),
                                           code.resources, code.scope)

    def query_authorization_code(self, code: str, client) -> OAuthCode | None:
        """The code, spent; a code bound to a DPoP key (``dpop_jkt``, RFC 9449 §10) is exchanged only with a
        proof by that key, and a code presented without it is spent all the same (whoever holds it is not the
        client that asked for it)."""
        redeemed = self.services.codes.redeem(self.request.db, code, client.row)
        if redeemed and redeemed[0].dpop_jkt and redeemed[0].dpop_jkt != self.request.dpop_jkt:
            raise DpopProofError("invalid_dpop_proof", "This code is bound to a DPoP key (dpop_jkt): send a DPoP "
                                 "proof made with that key (RFC 9449 section 10).")
        return OAuthCode(*redeemed) if redeemed else None

    def delete_authorization_code(self, authorization_code: OAuthCode) -> None:
        """Nothing to do: redeeming the code already marked it used, in the same transaction."""

    def authenticate_user(self, authorization_code: OAuthCode) -> User:
        """The code's user, loaded with the code, if still active (a code issued before is refused)."""
        return self.active_user(authorization_code.user)

    def token_family(self, user: User | None, scope: str) -> TokenFamily:
        code = self.request.authorization_code.row
        return self.services.tokens.start_family(
            self.request.db, self.request.client.row, user, self.SPEC.name, scope, authorization_code_id=code.id,
            amr=code.amr, dpop_jkt=self.request.dpop_jkt,
            resources=code.resources,
            session_id=code.session_id,
        )
