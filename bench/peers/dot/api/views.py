"""``GET /api/me``: the user behind a bearer token with scope ``read`` (DOT's ScopedProtectedResourceView)."""

from django.http import JsonResponse
from oauth2_provider.views.generic import ScopedProtectedResourceView


class Me(ScopedProtectedResourceView):
    required_scopes = ["read"]

    def get(self, request, *args, **kwargs):
        user = request.resource_owner
        return JsonResponse({"id": user.id, "username": user.username})
