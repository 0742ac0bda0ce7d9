"""Seed the peer. ``seed.py seed PASSWORD`` makes its tables, a user, a confidential client allowed
every grant and an access token for the API, and prints them as JSON. ``seed.py refresh CLIENT_ID
COUNT OUTFILE`` adds COUNT refresh tokens (rows of Authlib's token mixin, as ``save_token`` writes
them) and writes them to OUTFILE, one a line."""

import json
import secrets
import sys
import time

from werkzeug.security import generate_password_hash

from website.app import create_app
from website.models import OAuth2Client, OAuth2Token, User, db

REDIRECT_URI = "http://127.0.0.1:9/cb"
SCOPE = "profile"


def _token(client_id: str, user_id: int, refresh: bool) -> OAuth2Token:
    return OAuth2Token(
        client_id=client_id, user_id=user_id, token_type="Bearer", access_token=secrets.token_urlsafe(32),
        refresh_token=secrets.token_urlsafe(36) if refresh else None, scope=SCOPE, expires_in=86400,
    )


def seed(password: str) -> None:
    db.create_all()
    user = User(username="bench", password_hash=generate_password_hash(password))
    db.session.add(user)
    db.session.flush()
    client = OAuth2Client(client_id=secrets.token_urlsafe(18), client_secret=secrets.token_urlsafe(36),
                          client_id_issued_at=int(time.time()), user_id=user.id)
    client.set_client_metadata({
        "client_name": "bench",
        "redirect_uris": [REDIRECT_URI],
        "grant_types": ["authorization_code", "password", "client_credentials", "refresh_token"],
        "response_types": ["code"],
        "scope": SCOPE,
        "token_endpoint_auth_method": "client_secret_basic",
    })
    db.session.add(client)
    api = _token(client.client_id, user.id, refresh=False)
    db.session.add(api)
    db.session.commit()
    print(json.dumps({"username": user.username, "client_id": client.client_id,
                      "client_secret": client.client_secret, "redirect_uri": REDIRECT_URI, "scope": SCOPE,
                      "api_token": api.access_token}))


def refresh(client_id: str, count: int, outfile: str) -> None:
    user = User.query.filter_by(username="bench").one()
    rows = [_token(client_id, user.id, refresh=True) for _ in range(count)]
    db.session.add_all(rows)
    db.session.commit()
    with open(outfile, "w") as f:
        f.write("".join(r.refresh_token + "\n" for r in rows))


if __name__ == "__main__":
    with create_app().app_context():
        if sys.argv[1] == "seed":
            seed(sys.argv[2])
        else:
            refresh(sys.argv[2], int(sys.argv[3]), sys.argv[4])
