"""``/api/1.0/users``: the resource API's user endpoints."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from authgate.services.bearer import Principal
from authgate.services.users import public_view
from authgate.web.bearer import RequireScope

router = APIRouter(prefix="/api/1.0", tags=["users"])


@router.get("/users/me", summary="The user behind the token (scope users:read)")
def me(principal: Principal = Depends(RequireScope("users:read", user_required=True))) -> dict:
    return public_view(principal.user)
