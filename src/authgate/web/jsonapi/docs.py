"""The interactive API documentation at ``/api/documentation``: Swagger UI signs in with the
authorization code flow and PKCE, coming back to ``OAUTH2_REDIRECT_PATH`` — a URL to register as a
public client's redirect URI (see the README).

Swagger UI is served by authgate itself from the pinned ``swagger-ui-bundle-v2`` package (Swagger
UI's own dist, file for file), so the page works without internet and no third party can change
the script that runs on the origin that mints tokens. The pages carry every other page's headers
and CSP (no inline script, so the configuration travels as JSON and ``/static/api-docs.js`` starts
it), with one addition: ``img-src data:``, for the icons Swagger UI's stylesheet draws as inline
SVG images (a ticked scope checkbox among them); an image runs no script."""

from __future__ import annotations

from pathlib import Path

from swagger_ui_bundle import swagger_ui_path

from authgate.web.pages.templates import PAGE_HEADERS

DOCS_PATH = "/api/documentation"
OAUTH2_REDIRECT_PATH = "/api/oauth2-callback"
ASSETS_PATH = DOCS_PATH + "/assets"
ASSETS_DIR = Path(str(swagger_ui_path))
ASSETS = ("swagger-ui.css", "swagger-ui-bundle.js", "oauth2-redirect.js", "favicon-32x32.png")

CONTENT_SECURITY_POLICY = PAGE_HEADERS["Content-Security-Policy"] + "; img-src 'self' data:"

SWAGGER_INIT_OAUTH = {
    "usePkceWithAuthorizationCodeGrant": True,
    "scopes": "*",
    "appName": "authgate API documentation",
}


def swagger_config(issuer: str, openapi_url: str) -> dict:
    """What ``api-docs.js`` hands to ``SwaggerUIBundle`` and ``initOAuth``; the redirect URI is the issuer's."""
    return {
        "ui": {"url": openapi_url, "dom_id": "#swagger-ui", "layout": "BaseLayout", "deepLinking": True,
               "showExtensions": True, "showCommonExtensions": True,
               "oauth2RedirectUrl": issuer + OAUTH2_REDIRECT_PATH},
        "initOAuth": SWAGGER_INIT_OAUTH,
    }


DESCRIPTION = f"""
The authgate resource API, in ProcessMaker's `/api/1.0` conventions.

* **Authentication**: `Authorization: Bearer <token>` with an access token or a personal access
  token. Every endpoint names the **scope** the token needs and the **permission** its user needs;
  both must allow the action. Administrators hold every permission.
* **Lists**: `{{"data": [...], "meta": {{...}}}}`, with `filter`, `order_by`, `order_direction`,
  `per_page` (at most 100) and `page`. Single records are returned bare.
* **Errors**: 401 `{{"error": "Unauthenticated."}}`, 403 `{{"message": "This action is unauthorized."}}`,
  404 `{{"error": "Not Found"}}`, 405 `{{"message"}}` (with `Allow`), 422 `{{"message", "errors": {{"field": ["..."]}}}}`.
* **Client credentials tokens** act for a client, not a user: they may read users and groups when
  the client was registered with `users:read` / `groups:read` by name by an administrator (or a
  holder of `view-users` / `view-groups`) who still may, and nothing else.

To use **Authorize** here, register a public client whose redirect URI is this server's
`{OAUTH2_REDIRECT_PATH}`, then enter its client id (no secret) in the dialog.
"""
