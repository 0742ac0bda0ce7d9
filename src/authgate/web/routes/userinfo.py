"""``/oauth/userinfo`` (OpenID Connect Core 1.0 §5.3): the signed-in user's claims, by the token's scopes."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from starlette.responses import JSONResponse

from authgate.oauth.metadata import PATHS
from authgate.oauth.userinfo import user_claims
from authgate.services.bearer import Principal
from authgate.web.bearer import RequireScope

router = APIRouter(include_in_schema=False)

needs_openid = RequireScope("openid", user_required=True)


@router.get(PATHS["userinfo_endpoint"])
@router.post(PATHS["userinfo_endpoint"])
def userinfo(principal: Principal = Depends(needs_openid)) -> JSONResponse:
    return JSONResponse(user_claims(principal.user, principal.scopes), headers={"Cache-Control": "no-store"})
