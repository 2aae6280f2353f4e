"""A local OpenID Connect provider for tests only: discovery, token, userinfo and JWKS
endpoints over HTTP, so the app's real Authlib client runs against it."""

from __future__ import annotations

import base64
import functools
import hashlib
import http.server
import json
import secrets
import threading
import time
import urllib.parse
from dataclasses import dataclass, field

from joserfc import jwt
from joserfc.jwk import RSAKey


@functools.cache
def _signing_key() -> RSAKey:
    # Made once per test run: generating RSA keys is slow, and tests need no fresh one.
    return RSAKey.generate_key(2048, parameters={"kid": "k1"})


@dataclass
class Grant:
    client_id: str
    redirect_uri: str
    code_challenge: str
    claims: dict
    used: bool = False


@dataclass
class StandInProvider:
    client_id: str = "manabi"
    client_secret: str = "standin-secret"
    key: RSAKey = field(default_factory=lambda: _signing_key())
    grants: dict[str, Grant] = field(default_factory=dict)
    issuer: str = ""

    def start(self) -> StandInProvider:
        provider = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802
                path = urllib.parse.urlsplit(self.path).path
                if path == "/.well-known/openid-configuration":
                    self.reply(200, provider.metadata())
                elif path == "/jwks":
                    self.reply(200, {"keys": [provider.key.as_dict(private=False)]})
                elif path == "/userinfo":
                    self.reply(200, {"sub": "userinfo"})
                else:
                    self.reply(404, {"error": "not_found"})

            def do_POST(self):  # noqa: N802
                length = int(self.headers.get("Content-Length", 0))
                form = dict(urllib.parse.parse_qsl(self.rfile.read(length).decode()))
                status, body = provider.token(form, self.headers.get("Authorization", ""))
                self.reply(status, body)

            def reply(self, status, body):
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.issuer = self.issuer or f"http://127.0.0.1:{self.server.server_port}"
        self.base = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def metadata(self) -> dict:
        return {
            "issuer": self.issuer,
            "authorization_endpoint": f"{self.base}/authorize",
            "token_endpoint": f"{self.base}/token",
            "userinfo_endpoint": f"{self.base}/userinfo",
            "jwks_uri": f"{self.base}/jwks",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "code_challenge_methods_supported": ["S256"],
        }

    def authorize(self, authorize_url: str, **claims) -> dict:
        """Play the user consenting: return the callback query (code and state) for an authorize URL.

        `claims` override or add ID token claims (e.g. aud, iss, nonce, exp) for tests of refusals.
        """
        query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(authorize_url).query))
        assert query["client_id"] == self.client_id
        assert query["code_challenge_method"] == "S256"
        now = int(time.time())
        token_claims = {
            "iss": self.issuer,
            "aud": self.client_id,
            "iat": now,
            "exp": now + 600,
            "nonce": query.get("nonce"),
            **claims,
        }
        code = secrets.token_urlsafe(16)
        self.grants[code] = Grant(
            query["client_id"], query["redirect_uri"], query["code_challenge"], token_claims
        )
        return {"code": code, "state": query["state"]}

    def token(self, form: dict, authorization: str) -> tuple[int, dict]:
        client_id, client_secret = form.get("client_id"), form.get("client_secret")
        if authorization.startswith("Basic "):
            decoded = base64.b64decode(authorization[6:]).decode()
            client_id, client_secret = (urllib.parse.unquote(p) for p in decoded.split(":", 1))
        if (client_id, client_secret) != (self.client_id, self.client_secret):
            return 401, {"error": "invalid_client"}
        grant = self.grants.get(form.get("code", ""))
        if grant is None or grant.used:
            return 400, {"error": "invalid_grant"}  # unknown or replayed code
        grant.used = True
        verifier = form.get("code_verifier", "")
        challenge = (
            base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
            .rstrip(b"=")
            .decode()
        )
        if challenge != grant.code_challenge or form.get("redirect_uri") != grant.redirect_uri:
            return 400, {"error": "invalid_grant"}
        id_token = jwt.encode({"alg": "RS256", "kid": "k1"}, grant.claims, self.key)
        return 200, {
            "access_token": secrets.token_urlsafe(16),
            "token_type": "Bearer",
            "expires_in": 600,
            "id_token": id_token,
        }
