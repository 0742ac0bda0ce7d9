"""The OAuth endpoints: ``/oauth/authorize`` (RFC 6749 §3.1; its errors are pages), ``/oauth/token`` (§3.2; its
errors are OAuth JSON, ``token_router``) and the code page."""

from __future__ import annotations

from urllib.parse import urlencode, urlsplit

from authlib.oauth2.rfc6749 import OAuth2Error
from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from authgate.oauth.authorization.decisions import (ConsentNeeded, Refused, SecondFactorNeeded, SignInNeeded, Unreadable,
                                      decide_authorization)
from authgate.oauth.endpoints.metadata import PATHS
from authgate.oauth.requests import OAuthRequest
from authgate.services.applications.metadata_documents import DocumentRefused
from authgate.services.credentials import scopes as scope_rules
from authgate.web.http.error_format import ErrorFormat
from authgate.web import oauth_lane
from authgate.web.http.plain_errors import in_words
from authgate.web.pages.cookies import SESSION_COOKIE, read_cookie
from authgate.web.pages.csrf import checked_form, session_binding
from authgate.web.pages.forms import query_pairs
from authgate.web.pages.pending import to_pending
from authgate.web.pages.templates import error_page, page, render, signed_in_state
from authgate.web.pages.visitor import optional_visitor, visitor_of

router = APIRouter(include_in_schema=False, route_class=ErrorFormat.PAGE.route_class)
token_router = APIRouter(include_in_schema=False, route_class=ErrorFormat.TOKEN.route_class)


def _document_refusal(runtime, client_id: str | None) -> str | None:
    """Read the Client ID Metadata Document a ``client_id`` URL names, if it does (``metadata_documents.py``);
    why it is refused, or None. (The token endpoint does this in ``AuthorizationServer.token_response``.)"""
    if not runtime.metadata_documents.applies(client_id):
        return None
    try:
        with runtime.db.session() as s:
            runtime.metadata_documents.resolve(s, client_id)
    except DocumentRefused as refused:
        return f"The client metadata document at client_id is refused: {refused}"
    return None


@token_router.post(PATHS["token_endpoint"])
async def token(request: Request) -> Response:
    """What ``web/oauth_lane.py`` answers ahead of the router; reached only where the lane is not installed."""
    return await oauth_lane.route_answer(request, PATHS["token_endpoint"])


def _authorize_error(request: Request, error: OAuth2Error, who) -> Response:
    """Redirect only to a redirect URI already checked against the client; otherwise show a page, in words."""
    if error.redirect_uri:
        return RedirectResponse(request.app.state.oauth.error_redirect(error), status_code=302)
    return render("authorize_error.html", status=400, **signed_in_state(request, who),
                  message=in_words(error.error), error=error.error, description=error.description)


def _login_url(next_url: str, login_hint: str | None) -> str:
    params = [("next", next_url)] + ([("login_hint", login_hint)] if login_hint else [])
    return "/login?" + urlencode(params)


def _authorize(request: Request, choice: str | None, shown: str | None = None) -> Response:
    """The consent page (``choice`` None), or the redirect that carries the user's choice or remembered consent."""
    runtime, server = request.app.state.runtime, request.app.state.oauth
    uri = runtime.settings.issuer + PATHS["authorization_endpoint"]
    refused = _document_refusal(runtime, request.query_params.get("client_id"))
    if refused:
        return render("authorize_error.html", status=400, **signed_in_state(request, optional_visitor(request)),
                      message="This application cannot be used here.", error="invalid_client", description=refused)
    with runtime.db.session() as s:
        signed_in = runtime.sessions.resume(s, read_cookie(request, SESSION_COOKIE))
        named = runtime.clients.lookup(s, request.query_params.get("client_id") or "")
        if named is not None and named.disabled:
            return render("authorize_error.html", status=400, **signed_in_state(request, visitor_of(signed_in)),
                          message="This application has been disabled.", error="invalid_client",
                          description="An administrator of this server disabled it; it cannot sign you in.")
        oauth_request = OAuthRequest(s, request.method, uri, request.headers, query_pairs(request), [], "query")
        outcome = decide_authorization(server, oauth_request, signed_in, choice, shown)
    if isinstance(outcome, Refused):
        return _authorize_error(request, outcome.error, visitor_of(signed_in))
    if isinstance(outcome, Unreadable):
        return error_page("Invalid request", "The authorization request has characters that are not allowed.",
                          request=request, visitor=visitor_of(signed_in))
    if isinstance(outcome, SignInNeeded):
        return RedirectResponse(_login_url(outcome.return_to, outcome.login_hint), status_code=303)
    if isinstance(outcome, SecondFactorNeeded):
        return to_pending(runtime.settings, outcome.pending, outcome.return_to)
    if isinstance(outcome, ConsentNeeded):
        document = _document_host(runtime, request.query_params.get("client_id"), outcome.redirect_uri)
        return page(request, visitor_of(outcome.signed_in), "consent.html", client_name=outcome.client_name, **document,
                    made_by=outcome.made_by, self_registered=outcome.self_registered, scopes=outcome.scopes, everything=scope_rules.ALL in dict(outcome.scopes),
                    redirect_uri=outcome.redirect_uri, redirect_host=urlsplit(outcome.redirect_uri or "").netloc,
                    action=outcome.action, resources=outcome.resources, shown=outcome.shown)
    return RedirectResponse(outcome.location, status_code=302)


def _document_host(runtime, client_id: str | None, redirect_uri: str | None) -> dict:
    """For a client known by its metadata document: its host, shown first, and whether every redirect is local."""
    if not runtime.metadata_documents.applies(client_id):
        return {}
    with runtime.db.session(write=False) as s:
        view = runtime.clients.view(s, client_id)
    if view is None or not view.from_document:
        return {}
    local = all(urlsplit(u).hostname in ("localhost", "127.0.0.1", "::1") for u in view.redirect_uris)
    return {"document_host": urlsplit(client_id).hostname, "localhost_only": local}


@router.get(PATHS["authorization_endpoint"])
async def authorize_page(request: Request) -> Response:
    return await run_in_threadpool(_authorize, request, None)


@router.post(PATHS["authorization_endpoint"])
async def authorize_decision(request: Request) -> Response:
    fields = await checked_form(request, session_binding(read_cookie(request, SESSION_COOKIE)))
    return await run_in_threadpool(_authorize, request, fields.get("decision", ""), fields.get("shown", ""))


@router.get("/oauth/code")
async def code_page(request: Request) -> Response:
    """A redirect URI for scripts with no web server: shows the code, ready to copy."""
    params = request.query_params
    who = await run_in_threadpool(optional_visitor, request)
    return page(request, who, "code.html", code=params.get("code"), state=params.get("state"),
                error=params.get("error"), error_words=in_words(params.get("error")),
                error_description=params.get("error_description"),
                minutes=max(1, request.app.state.runtime.settings.auth_code_ttl // 60))
