"""The interactive API documentation at ``/api/documentation``: Swagger UI signs in with the
authorization code flow and PKCE, coming back to ``OAUTH2_REDIRECT_PATH`` — a URL to register as a
public client's redirect URI (see the README)."""

from __future__ import annotations

OAUTH2_REDIRECT_PATH = "/api/oauth2-callback"

SWAGGER_INIT_OAUTH = {
    "usePkceWithAuthorizationCodeGrant": True,
    "scopes": "*",
    "appName": "authgate API documentation",
}

DESCRIPTION = f"""
The authgate resource API, in ProcessMaker's `/api/1.0` conventions.

* **Authentication**: `Authorization: Bearer <token>` with an access token or a personal access
  token. Every endpoint names the **scope** the token needs and the **permission** its user needs;
  both must allow the action. Administrators hold every permission.
* **Lists**: `{{"data": [...], "meta": {{...}}}}`, with `filter`, `order_by`, `order_direction`,
  `per_page` (at most 100) and `page`. Single records are returned bare.
* **Errors**: 401 `{{"error": "Unauthenticated."}}`, 403 `{{"message": "This action is unauthorized."}}`,
  404 `{{"error": "Not Found"}}`, 422 `{{"message", "errors": {{"field": ["..."]}}}}`.
* **Client credentials tokens** act for a client, not a user: they may read users and groups when
  the client was registered with `users:read` / `groups:read` by name by an administrator (or a
  holder of `view-users` / `view-groups`) who still may, and nothing else.

To use **Authorize** here, register a public client whose redirect URI is this server's
`{OAUTH2_REDIRECT_PATH}`, then enter its client id (no secret) in the dialog.
"""
