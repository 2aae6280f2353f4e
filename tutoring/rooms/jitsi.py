"""Jitsi room names, opaque user ids and room tokens (JWTs signed with joserfc).

Two deployments sign differently (docs/jitsi.md explains how to set each up):

- a self-hosted Jitsi with Prosody token authentication: HS256 with the shared app secret,
  ``iss`` = the app id, ``sub`` = the Jitsi domain;
- 8x8 Jitsi as a Service (JaaS): RS256 with the tenant's private key and its ``kid``,
  ``iss`` = ``"chat"``, ``sub`` = the tenant (AppID).

Everything here is a pure function of its arguments, so it is tested without an app.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import OctKey, RSAKey

Algorithm = Literal["HS256", "RS256"]

AUDIENCE = "jitsi"
# JaaS documents "chat" as a fixed issuer for every tenant.
JAAS_ISSUER = "chat"
# An HS256 secret anyone could guess would let them mint moderator tokens; joserfc itself
# warns below 112 bits. `openssl rand -hex 32` gives 64 characters.
MIN_SECRET_LENGTH = 32
ROOM_NAME = re.compile(r"[A-Za-z0-9_-]+")
# Sent as the strings "false": JaaS documents the values as the strings "true"/"false",
# Prosody's is_feature_allowed and the Jitsi web client allow a feature only for "true"
# (or true), so "false" is refused everywhere. Without `features` Jitsi allows them to every
# moderator (to everyone in older releases).
DISABLED_FEATURES = ("recording", "livestreaming", "transcription", "outbound-call", "file-upload")
# Keeps these HMACs apart from any other HMAC made with the same secret.
_OPAQUE_ID_CONTEXT = b"manabi/jitsi-user/"


def new_room_name() -> str:
    """Return a fresh unguessable room name: 32 lower-case base32 characters (160 bits)."""
    # 20 random bytes are exactly 32 base32 characters, so there is no "=" padding to strip.
    return base64.b32encode(secrets.token_bytes(20)).decode("ascii").lower()


def opaque_user_id(user_id: int, secret: str) -> str:
    """Return the id Jitsi sees for a user: an HMAC-SHA256 of the database id, 32 hex chars."""
    if isinstance(user_id, bool) or not isinstance(user_id, int):
        raise TypeError("user_id must be an int")
    if not secret:
        raise ValueError("The secret for opaque user ids must not be empty.")
    message = _OPAQUE_ID_CONTEXT + str(user_id).encode("ascii")
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()[:32]


@dataclass(frozen=True)
class JitsiKeys:
    """How this deployment signs room tokens: HS256 (self-hosted Prosody) or RS256 (JaaS)."""

    algorithm: Algorithm
    # Self-hosted: Prosody's app_id. JaaS: the tenant, "vpaas-magic-cookie-…".
    app_id: str
    app_secret: str | None = field(default=None, repr=False)
    private_key_pem: str | None = field(default=None, repr=False)
    kid: str | None = None

    def __post_init__(self) -> None:
        if not self.app_id:
            raise ValueError("The Jitsi app id (TUTORING_JITSI_APP_ID) must not be empty.")
        if self.algorithm == "HS256":
            if not self.app_secret or len(self.app_secret) < MIN_SECRET_LENGTH:
                raise ValueError(
                    f"The Jitsi app secret (TUTORING_JITSI_APP_SECRET) must have at least {MIN_SECRET_LENGTH} characters."
                )
            if self.private_key_pem is not None or self.kid is not None:
                raise ValueError("HS256 keys take an app secret only, no private key or kid.")
        elif self.algorithm == "RS256":
            if self.app_secret is not None:
                raise ValueError("RS256 (JaaS) keys take a private key and kid, no app secret.")
            if not self.kid:
                raise ValueError(
                    "JaaS needs the API key id (TUTORING_JITSI_KID) next to the private key."
                )
            # JaaS key ids are "<AppID>/<key>"; another tenant's kid fails every join.
            if not self.kid.startswith(self.app_id + "/"):
                raise ValueError(
                    f"The JaaS kid must start with the AppID and a slash ({self.app_id}/…)."
                )
            _rsa_private_key(self.private_key_pem or "")
        else:
            raise ValueError(f"Unsupported Jitsi signing algorithm: {self.algorithm!r}.")

    @classmethod
    def hs256(cls, app_id: str, app_secret: str) -> JitsiKeys:
        """Return keys for a self-hosted Jitsi with Prosody token authentication."""
        return cls("HS256", app_id, app_secret=app_secret)

    @classmethod
    def jaas(cls, app_id: str, private_key_pem: str, kid: str) -> JitsiKeys:
        """Return keys for 8x8 JaaS: the tenant (AppID), its private key and the key's kid."""
        return cls("RS256", app_id, private_key_pem=private_key_pem, kid=kid)

    @property
    def is_jaas(self) -> bool:
        return self.algorithm == "RS256"


def _setting(config: Mapping[str, Any], name: str) -> str | None:
    value = config.get(name)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        # app.config.from_prefixed_env parses values that look like JSON (digits, true).
        raise ValueError(
            f"TUTORING_{name} must be a string; quote it as JSON if it looks like a number."
        )
    return value


def keys_from_config(config: Mapping[str, Any]) -> JitsiKeys | None:
    """Return the signing keys the configuration describes, or None without token auth."""
    domain = _setting(config, "JITSI_DOMAIN")
    app_id = _setting(config, "JITSI_APP_ID")
    secret = _setting(config, "JITSI_APP_SECRET")
    key_path = _setting(config, "JITSI_PRIVATE_KEY_PATH")
    kid = _setting(config, "JITSI_KID")
    if secret is None and key_path is None:
        return None
    if secret is not None and key_path is not None:
        raise ValueError(
            "Set TUTORING_JITSI_APP_SECRET (self-hosted Jitsi) or TUTORING_JITSI_PRIVATE_KEY_PATH (JaaS), not both."
        )
    if domain is None:
        raise ValueError("TUTORING_JITSI_DOMAIN is required when Jitsi tokens are configured.")
    if app_id is None:
        raise ValueError("TUTORING_JITSI_APP_ID is required when Jitsi tokens are configured.")
    if secret is not None:
        if kid is not None:
            raise ValueError(
                "TUTORING_JITSI_KID belongs to JaaS (with TUTORING_JITSI_PRIVATE_KEY_PATH); remove it for a self-hosted Jitsi."
            )
        return JitsiKeys.hs256(app_id, secret)
    if kid is None:
        raise ValueError(
            "TUTORING_JITSI_KID is required with TUTORING_JITSI_PRIVATE_KEY_PATH (the API key id from the JaaS console)."
        )
    try:
        pem = Path(key_path).read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError) as error:
        raise ValueError(f"Cannot read the Jitsi private key at {key_path}: {error}") from error
    return JitsiKeys.jaas(app_id, pem, kid)


@functools.lru_cache(maxsize=4)
def _rsa_private_key(pem: str) -> RSAKey:
    # Cached because parsing a PEM costs more than signing, and every join signs a token.
    try:
        key = RSAKey.import_key(pem)
    except (ValueError, JoseError) as error:
        raise ValueError("The Jitsi private key is not an RSA key in PEM format.") from error
    if not key.is_private:
        raise ValueError("The Jitsi key file holds a public key; JaaS tokens need the private key.")
    return key


def _signing_key(keys: JitsiKeys) -> OctKey | RSAKey:
    if keys.is_jaas:
        return _rsa_private_key(keys.private_key_pem or "")
    return OctKey.import_key(keys.app_secret or "")


def _seconds(name: str, value: datetime) -> int:
    # A naive datetime would be read in the server's local zone and shift the join window.
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be an aware datetime (UTC).")
    return int(value.timestamp())


def room_token(
    *,
    keys: JitsiKeys,
    domain: str,
    room: str,
    user_opaque_id: str,
    display_name: str,
    moderator: bool,
    not_before: datetime,
    expires_at: datetime,
    now: datetime,
) -> str:
    """Return a JWT that lets one user into one Jitsi room from not_before to expires_at."""
    # "*" (every room) and anything Prosody would read differently never reach a token.
    if not ROOM_NAME.fullmatch(room):
        raise ValueError("The room name must be letters, digits, '-' or '_' (never '*').")
    if not keys.is_jaas and not domain:
        raise ValueError("The Jitsi domain is required: it is the token's subject.")
    if not user_opaque_id:
        raise ValueError("The user id in a Jitsi token must not be empty.")
    iat = _seconds("now", now)
    nbf = _seconds("not_before", not_before)
    exp = _seconds("expires_at", expires_at)
    if expires_at <= not_before:
        raise ValueError("expires_at must be after not_before.")
    if now > expires_at:
        raise ValueError("The token would already have expired.")

    user: dict[str, Any] = {"id": user_opaque_id, "name": display_name}
    # Only the moderator carries the key at all, so no plugin can misread a "false" (in Lua
    # every string is truthy). JaaS documents the string "true"; mod_token_affiliation on a
    # self-hosted Prosody accepts both true and "true".
    if moderator:
        user["moderator"] = "true" if keys.is_jaas else True
    claims: dict[str, Any] = {
        "iss": JAAS_ISSUER if keys.is_jaas else keys.app_id,
        "aud": AUDIENCE,
        "sub": keys.app_id if keys.is_jaas else domain.lower(),
        # Prosody compares the MUC room name, which is lower case, with this claim.
        "room": room.lower(),
        "iat": iat,
        "nbf": nbf,
        "exp": exp,
        "context": {
            "user": user,
            "features": {name: "false" for name in DISABLED_FEATURES},
        },
    }
    header: dict[str, Any] = {"alg": keys.algorithm, "typ": "JWT"}
    if keys.is_jaas:
        header["kid"] = keys.kid
    return jwt.encode(header, claims, _signing_key(keys), algorithms=[keys.algorithm])
