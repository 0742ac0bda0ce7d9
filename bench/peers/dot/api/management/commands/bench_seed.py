"""Seed the peer: a user, one application per grant (DOT allows one grant type per application),
and access tokens for the API and for introspection, made with DOT's own models. Prints one JSON
object."""

import json
import secrets
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone
from oauth2_provider.models import AccessToken, Application

REDIRECT_URI = "http://127.0.0.1:9/cb"


class Command(BaseCommand):
    def add_arguments(self, parser):
        parser.add_argument("--password", required=True)

    @transaction.atomic
    def handle(self, *args, **options):
        user = get_user_model().objects.create_user("bench", "bench@example.org", options["password"])
        apps = {}
        for grant in ("authorization-code", "password", "client-credentials"):
            secret = "sec_" + secrets.token_urlsafe(32)
            app = Application.objects.create(
                name=f"bench {grant}",
                user=user,
                client_type=Application.CLIENT_CONFIDENTIAL,
                authorization_grant_type=grant,
                redirect_uris=REDIRECT_URI if grant == "authorization-code" else "",
                client_secret=secret,
                skip_authorization=True,
                algorithm="",
            )
            apps[grant] = {"client_id": app.client_id, "client_secret": secret, "id": app.id}
        code_app = Application.objects.get(pk=apps["authorization-code"]["id"])
        expires = timezone.now() + timedelta(days=1)

        def access(scope):
            return AccessToken.objects.create(
                user=user, application=code_app, token=secrets.token_urlsafe(32), expires=expires, scope=scope
            )

        api_token = access("read write")
        introspection_token = access("introspection")
        print(json.dumps({
            "username": user.username,
            "apps": apps,
            "redirect_uri": REDIRECT_URI,
            "api_token": api_token.token,
            "introspection_token": introspection_token.token,
        }))
