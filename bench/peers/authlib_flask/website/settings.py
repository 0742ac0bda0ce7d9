"""Production settings for the benchmark: a file SQLite database given by the run script."""

import os

SECRET_KEY = os.environ.get("PEER_SECRET_KEY", "bench-only-secret")
SQLALCHEMY_DATABASE_URI = os.environ.get("PEER_DATABASE_URL", "sqlite:///db.sqlite")
SQLALCHEMY_TRACK_MODIFICATIONS = False
OAUTH2_REFRESH_TOKEN_GENERATOR = True
