"""``/oauth/userinfo`` (OpenID Connect Core 1.0 §5.3): the signed-in user's claims, by the token's scopes.

The access token comes in the ``Authorization`` header, or — on a form-encoded POST, and only
here — as the ``access_token`` body field (RFC 6750 §2.2, Core §5.3.1), which pyoidc and other
relying parties send by default. A request that uses both is refused (RFC 6750 §2: exactly one
method). The JSON API takes the header only.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends
from starlette.requests import Request
from starlette.responses import JSONResponse

from authgate.oauth.endpoints.metadata import PATHS
from authgate.oauth.endpoints.userinfo import user_claims
from authgate.services.accounts.people.principal import Principal
from authgate.web.bearer import REALM, BearerError, authenticate
from authgate.web.http.error_format import ErrorFormat
from authgate.web.pages.forms import FORM_TYPE, BadForm, read_form

router = APIRouter(include_in_schema=False, route_class=ErrorFormat.JSON.route_class)


def _invalid_request(description: str) -> BearerError:
    return BearerError(
        400, {"error": "invalid_request", "error_description": description},
        f'Bearer {REALM}, error="invalid_request", error_description="{description}"',
    )


async def _token_in_body(request: Request) -> str | None:
    """The ``access_token`` of a form-encoded POST body (RFC 6750 §2.2), or None when there is none."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if request.method != "POST" or content_type != FORM_TYPE:
        return None
    try:
        values = [value for name, value in await read_form(request) if name == "access_token"]
    except BadForm as error:
        raise _invalid_request(str(error).replace('"', "'")) from None
    if len(values) > 1:
        raise _invalid_request("The access_token field is repeated.")
    if values and not values[0].strip():
        raise _invalid_request("The access_token field is empty.")
    return values[0].strip() if values else None


async def openid_principal(request: Request) -> Principal:
    token = await _token_in_body(request)
    if token is not None and "authorization" in request.headers:
        raise _invalid_request("Send the access token in the Authorization header or the body, not both.")
    return await authenticate(request, ("openid",), user_required=True, token=token)


@router.get(PATHS["userinfo_endpoint"])
@router.post(PATHS["userinfo_endpoint"])
def userinfo(principal: Principal = Depends(openid_principal)) -> JSONResponse:
    return JSONResponse(user_claims(principal.user, principal.scopes), headers={"Cache-Control": "no-store"})
