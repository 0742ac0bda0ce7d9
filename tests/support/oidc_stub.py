"""A small OpenID Provider on loopback that the federation tests control: it signs ID tokens with a key the test
chooses and can get one thing wrong on purpose (the issuer, the nonce, the expiry, the key, the ``iss`` parameter its metadata
promises, the token response), so that authgate's
refusals are shown against a real HTTP peer. It is a test peer speaking the protocol, not a stand-in for authgate
(the upstream authgate of ``test_federation_oidc.py`` is the real one)."""

from __future__ import annotations

import json
import secrets
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit

from joserfc import jwt
from joserfc.jwk import RSAKey


class OidcStub:
    def __init__(self):
        self.key = RSAKey.generate_key(2048, parameters={"kid": "stub-key", "use": "sig", "alg": "RS256"})
        self.other_key = RSAKey.generate_key(2048, parameters={"kid": "stranger", "alg": "RS256"})
        self.fault: str | None = None
        self.claims: dict = {}
        self.codes: dict[str, dict] = {}
        self.token_requests: list[dict] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                parts = urlsplit(self.path)
                if parts.path == "/.well-known/openid-configuration":
                    return self._json(owner.metadata())
                if parts.path == "/jwks":
                    return self._json({"keys": [owner.key.as_dict(private=False)]})
                if parts.path == "/authorize":
                    return self._authorize(parse_qs(parts.query))
                self._json({"error": "not_found"}, 404)

            def do_POST(self):
                if urlsplit(self.path).path != "/token":
                    return self._json({"error": "not_found"}, 404)
                length = int(self.headers.get("Content-Length") or 0)
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                owner.token_requests.append({**form, "authorization": self.headers.get("Authorization")})
                pending = owner.codes.pop(form.get("code", ""), None)
                if pending is None:
                    return self._json({"error": "invalid_grant"}, 400)
                if owner.fault == "token_not_json":
                    return self._send(b"<html>Bad Gateway</html>", "text/html", 502)
                if owner.fault == "no_id_token":
                    return self._json({"access_token": secrets.token_urlsafe(16), "token_type": "Bearer"})
                self._json({"access_token": secrets.token_urlsafe(16), "token_type": "Bearer", "expires_in": 60,
                            "id_token": owner.id_token(pending)})

            def _authorize(self, query):
                q = {k: v[0] for k, v in query.items()}
                code = secrets.token_urlsafe(16)
                self.codes_put(code, q)
                answer = {"code": code, "state": q["state"],
                          "iss": "http://evil.example" if owner.fault == "iss_parameter" else owner.issuer}
                if owner.fault == "no_iss_parameter":
                    del answer["iss"]
                self.send_response(302)
                self.send_header("Location", q["redirect_uri"] + "?" + urlencode(answer))
                self.send_header("Content-Length", "0")
                self.end_headers()

            def codes_put(self, code, q):
                owner.codes[code] = q

            def _json(self, document, status=200):
                self._send(json.dumps(document).encode(), "application/json", status)

            def _send(self, body: bytes, content_type: str, status: int):
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Cache-Control", "no-store")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.issuer = f"http://127.0.0.1:{self.httpd.server_port}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def metadata(self) -> dict:
        return {"issuer": self.issuer, "authorization_endpoint": self.issuer + "/authorize",
                "token_endpoint": self.issuer + "/token", "jwks_uri": self.issuer + "/jwks",
                "response_types_supported": ["code"], "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "token_endpoint_auth_methods_supported": ["client_secret_basic"],
                "authorization_response_iss_parameter_supported": True}

    def id_token(self, request: dict) -> str:
        now = int(time.time())
        claims = {"iss": self.issuer, "sub": "stub-subject", "aud": request["client_id"], "iat": now,
                  "exp": now + 300, "nonce": request.get("nonce"), "email": "stub@example.org",
                  "email_verified": True, "preferred_username": "stubuser", **self.claims}
        if self.fault == "iss":
            claims["iss"] = "http://other-issuer.example"
        if self.fault == "nonce":
            claims["nonce"] = "not-the-nonce-sent"
        if self.fault == "expired":
            claims["iat"], claims["exp"] = now - 3600, now - 600
        key = self.other_key if self.fault == "unknown_key" else self.key
        return jwt.encode({"alg": "RS256", "kid": key.kid}, claims, key)

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
