"""DOT's URLs under /o/, a sign-in page, and the protected /api/me."""

from django.contrib.auth import views as auth_views
from django.urls import include, path

from api.views import Me

urlpatterns = [
    path("o/", include("oauth2_provider.urls", namespace="oauth2_provider")),
    path("accounts/login/", auth_views.LoginView.as_view()),
    path("api/me", Me.as_view()),
]
