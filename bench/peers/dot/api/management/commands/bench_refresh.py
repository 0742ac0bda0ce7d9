"""Mint COUNT refresh tokens (each with its access token, as DOT's token endpoint saves them) for
the authorization-code application and write them to OUTFILE, one a line."""

import secrets
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone
from oauth2_provider.models import AccessToken, Application, RefreshToken


class Command(BaseCommand):
    def add_arguments(self, parser):
        parser.add_argument("count", type=int)
        parser.add_argument("outfile")

    @transaction.atomic
    def handle(self, *args, **options):
        user = get_user_model().objects.get(username="bench")
        app = Application.objects.get(authorization_grant_type="authorization-code")
        expires = timezone.now() + timedelta(days=1)
        tokens = []
        for _ in range(options["count"]):
            access = AccessToken.objects.create(
                user=user, application=app, token=secrets.token_urlsafe(32), expires=expires, scope="read write"
            )
            refresh = RefreshToken.objects.create(
                user=user, application=app, token=secrets.token_urlsafe(32), access_token=access
            )
            tokens.append(refresh.token)
        with open(options["outfile"], "w") as f:
            f.write("".join(t + "\n" for t in tokens))
