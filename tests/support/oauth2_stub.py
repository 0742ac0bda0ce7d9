"""A small plain OAuth 2.0 provider on loopback, shaped like GitHub's (``/login/oauth/authorize``,
``/login/oauth/access_token``, ``/user`` answering ``id`` and ``login``), that the federation tests control: no
discovery, no ID token, who signed in is what ``/user`` says to the access token. It checks PKCE (RFC 7636 §4.6)
and the client's credentials, answers a bad code as GitHub does (HTTP 200 with an ``error``), and can get one thing
wrong on purpose (``fault``): the ``state`` it sends back, an error instead of a code, the code refused, a
userinfo request refused.
It remembers every access token it issued, so a test can show none of them reached authgate's database or logs."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit


class OAuth2Stub:
    def __init__(self, client_id: str = "authgate-at-github", client_secret: str = "github-client-secret"):
        self.client_id = client_id
        self.client_secret = client_secret
        self.fault: str | None = None
        self.user: dict = {}
        """What ``/user`` answers (GitHub's shape: ``id``, ``login``, ``name``, ``email``; here ``teams`` too)."""
        self.codes: dict[str, dict] = {}
        self.tokens: dict[str, dict] = {}
        self.token_requests: list[dict] = []
        self.userinfo_requests: list[str | None] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                parts = urlsplit(self.path)
                if parts.path == "/login/oauth/authorize":
                    return self._authorize({k: v[0] for k, v in parse_qs(parts.query).items()})
                if parts.path == "/user":
                    return self._user()
                self._json({"message": "Not Found"}, 404)

            def do_POST(self):
                if urlsplit(self.path).path != "/login/oauth/access_token":
                    return self._json({"message": "Not Found"}, 404)
                length = int(self.headers.get("Content-Length") or 0)
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                owner.token_requests.append(form)
                if form.get("client_id") != owner.client_id or form.get("client_secret") != owner.client_secret:
                    return self._json({"error": "incorrect_client_credentials",
                                       "error_description": "The client_id and/or client_secret passed are incorrect."})
                pending = owner.codes.pop(form.get("code", ""), None) if owner.fault != "token" else None
                verifier = form.get("code_verifier", "")
                challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
                if pending is None or pending.get("redirect_uri") != form.get("redirect_uri") \
                        or pending.get("code_challenge") != challenge:
                    return self._json({"error": "bad_verification_code",
                                       "error_description": "The code passed is incorrect or expired."})
                token = "gho_" + secrets.token_urlsafe(24)
                owner.tokens[token] = dict(owner.user)
                self._json({"access_token": token, "token_type": "bearer", "scope": pending.get("scope", "")})

            def _authorize(self, q):
                if owner.fault == "error":
                    answer = {"error": "access_denied", "error_description": "The user has denied your application "
                              "access.", "state": q.get("state", "")}
                else:
                    code = secrets.token_urlsafe(16)
                    owner.codes[code] = q
                    answer = {"code": code, "state": "not-the-state-sent" if owner.fault == "state" else q["state"]}
                self.send_response(302)
                self.send_header("Location", q["redirect_uri"] + "?" + urlencode(answer))
                self.send_header("Content-Length", "0")
                self.end_headers()

            def _user(self):
                authorization = self.headers.get("Authorization")
                owner.userinfo_requests.append(authorization)
                scheme, _, token = (authorization or "").partition(" ")
                if owner.fault == "userinfo" or scheme.lower() not in ("bearer", "token") or token not in owner.tokens:
                    return self._json({"message": "Bad credentials"}, 401)
                self._json(owner.tokens[token])

            def _json(self, document, status=200):
                body = json.dumps(document).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_port}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    @property
    def authorization_url(self) -> str:
        return self.url + "/login/oauth/authorize"

    @property
    def token_url(self) -> str:
        return self.url + "/login/oauth/access_token"

    @property
    def userinfo_url(self) -> str:
        return self.url + "/user"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
