"""The example's routes that the benchmark drives: authorize (consent by form), token, revoke,
introspect and the protected ``/api/me``."""

from authlib.integrations.flask_oauth2 import current_token
from authlib.oauth2 import OAuth2Error
from flask import Blueprint, jsonify, render_template, request

from .models import User
from .oauth2 import MyIntrospectionEndpoint, authorization, require_oauth

bp = Blueprint("home", __name__)


@bp.route("/oauth/authorize", methods=["GET", "POST"])
def authorize():
    if request.method == "GET":
        try:
            grant = authorization.get_consent_grant(end_user=None)
        except OAuth2Error as error:
            return jsonify(dict(error.get_body()))
        return render_template("authorize.html", grant=grant)
    user = User.query.filter_by(username=request.form.get("username")).first()
    grant_user = user if request.form.get("confirm") else None
    return authorization.create_authorization_response(grant_user=grant_user)


@bp.route("/oauth/token", methods=["POST"])
def issue_token():
    return authorization.create_token_response()


@bp.route("/oauth/revoke", methods=["POST"])
def revoke_token():
    return authorization.create_endpoint_response("revocation")


@bp.route("/oauth/introspect", methods=["POST"])
def introspect_token():
    return authorization.create_endpoint_response(MyIntrospectionEndpoint.ENDPOINT_NAME)


@bp.route("/api/me")
@require_oauth("profile")
def api_me():
    user = current_token.user
    return jsonify(id=user.id, username=user.username)


