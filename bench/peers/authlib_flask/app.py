"""Entry point, as in Authlib's example server: ``gunicorn app:app`` serves ``website``."""

from website.app import create_app

app = create_app()
