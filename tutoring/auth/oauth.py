"""Sign-in providers (OpenID Connect through Authlib's Flask client), from configuration.

OIDC_PROVIDERS maps a short name to its settings; `preset` fills in what is known of Google
and LINE. From the environment: TUTORING_OIDC_PROVIDERS__line__client_id=…,
TUTORING_OIDC_PROVIDERS__line__client_secret=…, TUTORING_OIDC_PROVIDERS__line__preset=line.
"""

from __future__ import annotations

import base64
from typing import Any

from flask import Flask

from tutoring.extensions import oauth

PRESETS: dict[str, dict[str, Any]] = {
    "google": {
        "label": "Google",
        "discovery_url": "https://accounts.google.com/.well-known/openid-configuration",
        "scopes": "openid email profile",
    },
    "line": {
        "label": "LINE",
        "discovery_url": "https://access.line.me/.well-known/openid-configuration",
        "scopes": "openid profile email",
        # LINE's web login signs ID tokens with HS256 and the channel secret (no kid).
        "hs256_with_secret": True,
    },
}


def provider_settings(app: Flask) -> dict[str, dict[str, Any]]:
    """Return the configured providers with their presets applied (only complete ones)."""
    providers = {}
    for name, settings in (app.config.get("OIDC_PROVIDERS") or {}).items():
        merged = {**PRESETS.get(settings.get("preset", name), {}), **settings}
        if merged.get("client_id") and merged.get("client_secret") and merged.get("discovery_url"):
            merged.setdefault("label", name)
            merged.setdefault("scopes", "openid email profile")
            providers[name] = merged
    return providers


def register_providers(app: Flask) -> None:
    """Register each configured provider with the OAuth client registry."""
    providers = provider_settings(app)
    app.extensions["oidc_providers"] = providers
    for name, settings in providers.items():
        metadata = {}
        if settings.get("hs256_with_secret"):
            secret = base64.urlsafe_b64encode(str(settings["client_secret"]).encode()).rstrip(b"=")
            metadata["jwks"] = {"keys": [{"kty": "oct", "alg": "HS256", "k": secret.decode()}]}
        # A fresh client per app: tests and multi-app processes must not share a cached one.
        oauth._clients.pop(name, None)
        oauth.register(
            name,
            overwrite=True,
            client_id=settings["client_id"],
            client_secret=settings["client_secret"],
            server_metadata_url=settings["discovery_url"],
            client_kwargs={"scope": settings["scopes"], "code_challenge_method": "S256"},
            **metadata,
        )


def configured(app: Flask) -> dict[str, dict[str, Any]]:
    """Return the providers shown on the sign-in page."""
    return app.extensions.get("oidc_providers", {})
