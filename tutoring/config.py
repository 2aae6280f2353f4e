"""Configuration defaults; overridden by instance/config.py, TUTORING_* variables, then tests."""

from __future__ import annotations

# "development" and "testing" may run without a secret key; anything else refuses to start.
ENV = "production"
SECRET_KEY: str | None = None

# Unset means SQLite in the instance folder (see create_app).
DATABASE_URL: str | None = None
REDIS_URL: str | None = None

TIMEZONE = "Asia/Tokyo"
LANGUAGES = ("ja", "en")
BABEL_DEFAULT_LOCALE = "ja"
BABEL_DEFAULT_TIMEZONE = "Asia/Tokyo"

# Sign-in limits: only failed attempts count, per account and per client address.
LOGIN_LIMIT_PER_ACCOUNT = "10 per 15 minutes"
LOGIN_LIMIT_PER_ADDRESS = "50 per 15 minutes"
# API calls with a personal token; scripts and imports need at least 300 a minute.
API_TOKEN_LIMIT = "600 per minute"  # noqa: S105

# Keys that encrypt notes and case reviews at rest (tutoring/crypto.py): required outside
# development. TUTORING_DATA_KEYS__k1=<`flask --app wsgi data-keys new`>, TUTORING_DATA_KEY_CURRENT=k1.
DATA_KEYS: dict = {}
DATA_KEY_CURRENT: str | None = None

# Sign-in providers (OpenID Connect), e.g. {"line": {"preset": "line", "client_id": …,
# "client_secret": …}}; a generic one needs "discovery_url" (and may set "scopes", "label").
# From the environment: TUTORING_OIDC_PROVIDERS__line__client_id=… (see tutoring/auth/oauth.py).
OIDC_PROVIDERS: dict = {}

# Roles that must sign in with a second factor (an authenticator app); tutors may choose to.
# `make run` sets TUTORING_TWO_FACTOR_REQUIRED_ROLES='[]' so the demo accounts sign in at once.
TWO_FACTOR_REQUIRED_ROLES: list[str] = ["coordinator", "admin"]

INVITATION_TTL_HOURS = 24 * 7
PASSWORD_MIN_LENGTH = 10
# One of argon2.profiles; tests use CHEAPEST. Hashes of other profiles are upgraded at sign-in.
ARGON2_PROFILE = "RFC_9106_LOW_MEMORY"

# Sessions and rooms.
SESSION_DEFAULT_MINUTES = 120
SERIES_MAX_OCCURRENCES = 60
ROOM_OPENS_MINUTES_BEFORE = 15
ROOM_CLOSES_MINUTES_AFTER = 30

# Video rooms (docs/jitsi.md). Without a secret or key, rooms get no JWT (development only).
JITSI_DOMAIN = "meet.jit.si"
JITSI_APP_ID: str | None = None
JITSI_APP_SECRET: str | None = None
JITSI_PRIVATE_KEY_PATH: str | None = None
JITSI_KID: str | None = None
JITSI_PREJOIN = False  # Jitsi's own camera and microphone check before entering
# Seconds before the room page tells the user the video did not load.
JITSI_LOAD_TIMEOUT = 12

# Whiteboard sockets. "threading" is the embedded default (make run); see docs/deploy.md.
SOCKETIO_ASYNC_MODE = "threading"
SOCKETIO_ORIGINS: list[str] | str | None = None
SOCKETIO_MAX_MESSAGE_BYTES = 512 * 1024

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
PERMANENT_SESSION_LIFETIME = 60 * 60 * 12
# Served over HTTPS (behind a proxy that terminates TLS): Secure, __Host- cookies and HSTS.
HTTPS = False
# How many proxies in front set X-Forwarded-For/-Proto/-Host (nginx alone: 1). Without it the
# sign-in limits would count every client as the proxy's address.
TRUSTED_PROXIES = 0
# A signed-in session ends after this long without a request, and this long after sign-in.
SESSION_IDLE_MINUTES = 120
SESSION_ABSOLUTE_HOURS = 12

WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the sign-in session
WTF_CSRF_CHECK_DEFAULT = True

SQLALCHEMY_ENGINE_OPTIONS: dict = {"pool_pre_ping": True}
MAX_CONTENT_LENGTH = 16 * 1024 * 1024

# Whiteboard pictures (docs/whiteboard.md), kept in instance/whiteboard/<session id>/.
# The whole request is also capped by MAX_CONTENT_LENGTH.
WHITEBOARD_IMAGE_MAX_BYTES = 10 * 1024 * 1024
# More pixels than this is refused before decoding (a "decompression bomb"); a 48 MP phone
# photo fits. Pillow's own Image.MAX_IMAGE_PIXELS caps it.
WHITEBOARD_IMAGE_MAX_PIXELS = 50_000_000
# Longer sides are scaled down to this many pixels.
WHITEBOARD_IMAGE_MAX_SIDE = 2000
# Photos and snapshots per user, on top of API_TOKEN_LIMIT: decoding a photo is costly.
WHITEBOARD_UPLOAD_LIMIT = "30 per minute"
