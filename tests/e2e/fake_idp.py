"""A small but real OpenID Connect provider for the tests, served over HTTP from a thread: discovery, the authorize
redirect (the person "signs in" as whoever the test chose), the token endpoint with RS256-signed ID tokens, userinfo
with a group claim, and the JWKS that publishes the signing key."""

from __future__ import annotations

import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlparse

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

KEY_ID = "test-key-1"


@dataclass
class FakeIdentityProvider:
    client_id: str = "cartograph"
    client_secret: str = "idp-test-secret"
    # the person who signs in at the next authorize request: their userinfo claims (sub, email, groups, ...)
    person: dict[str, Any] = field(default_factory=dict)
    requests: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self._codes: dict[str, dict[str, Any]] = {}
        self._tokens: dict[str, dict[str, Any]] = {}
        self._server: ThreadingHTTPServer | None = None

    @property
    def issuer(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def settings(self) -> dict[str, Any]:
        """The Cartograph settings that point at this provider, read from its discovery document."""
        import requests

        discovery = requests.get(f"{self.issuer}/.well-known/openid-configuration", timeout=5).json()
        return {
            "OIDC_RP_CLIENT_ID": self.client_id,
            "OIDC_RP_CLIENT_SECRET": self.client_secret,
            "OIDC_OP_AUTHORIZATION_ENDPOINT": discovery["authorization_endpoint"],
            "OIDC_OP_TOKEN_ENDPOINT": discovery["token_endpoint"],
            "OIDC_OP_USER_ENDPOINT": discovery["userinfo_endpoint"],
            "OIDC_OP_JWKS_ENDPOINT": discovery["jwks_uri"],
            "OIDC_RP_SIGN_ALGO": "RS256",
        }

    def start(self) -> FakeIdentityProvider:
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # keep test output quiet
                pass

            def _json(self, status: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                url = urlparse(self.path)
                provider.requests.append(f"GET {url.path}")
                query = {k: v[0] for k, v in parse_qs(url.query).items()}
                if url.path == "/.well-known/openid-configuration":
                    return self._json(200, provider._discovery())
                if url.path == "/jwks":
                    public = json.loads(RSAAlgorithm.to_jwk(provider._key.public_key()))
                    return self._json(200, {"keys": [{**public, "kid": KEY_ID, "alg": "RS256", "use": "sig"}]})
                if url.path == "/authorize":
                    return self._authorize(query)
                if url.path == "/userinfo":
                    token = self.headers.get("Authorization", "").removeprefix("Bearer ")
                    claims = provider._tokens.get(token)
                    if claims is None:
                        return self._json(401, {"error": "invalid_token"})
                    return self._json(200, claims)
                return self._json(404, {"error": "not_found"})

            def _authorize(self, query: dict[str, str]) -> None:
                if query.get("client_id") != provider.client_id or query.get("response_type") != "code":
                    return self._json(400, {"error": "unauthorized_client"})
                code = secrets.token_urlsafe(16)
                provider._codes[code] = {
                    "nonce": query.get("nonce"),
                    "redirect_uri": query["redirect_uri"],
                    "claims": dict(provider.person),
                }
                self.send_response(302)
                self.send_header(
                    "Location", f"{query['redirect_uri']}?{urlencode({'code': code, 'state': query['state']})}"
                )
                self.end_headers()

            def do_POST(self) -> None:
                url = urlparse(self.path)
                provider.requests.append(f"POST {url.path}")
                if url.path != "/token":
                    return self._json(404, {"error": "not_found"})
                length = int(self.headers.get("Content-Length", "0"))
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                if (form.get("client_id"), form.get("client_secret")) != (provider.client_id, provider.client_secret):
                    return self._json(401, {"error": "invalid_client"})
                grant = provider._codes.pop(form.get("code", ""), None)
                if grant is None or grant["redirect_uri"] != form.get("redirect_uri"):
                    return self._json(400, {"error": "invalid_grant"})
                now = int(time.time())
                claims = grant["claims"]
                id_token = jwt.encode(
                    {
                        "iss": provider.issuer,
                        "sub": claims["sub"],
                        "aud": provider.client_id,
                        "iat": now,
                        "exp": now + 300,
                        "nonce": grant["nonce"],
                        "email": claims.get("email"),
                    },
                    provider._key,
                    algorithm="RS256",
                    headers={"kid": KEY_ID},
                )
                access_token = secrets.token_urlsafe(24)
                provider._tokens[access_token] = claims
                return self._json(
                    200, {"access_token": access_token, "id_token": id_token, "token_type": "Bearer", "expires_in": 300}
                )

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def _discovery(self) -> dict[str, Any]:
        return {
            "issuer": self.issuer,
            "authorization_endpoint": f"{self.issuer}/authorize",
            "token_endpoint": f"{self.issuer}/token",
            "userinfo_endpoint": f"{self.issuer}/userinfo",
            "jwks_uri": f"{self.issuer}/jwks",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "scopes_supported": ["openid", "email", "profile", "groups"],
        }
