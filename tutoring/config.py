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

# Learner records (docs/records.md).
# Refuse to book sessions for a minor whose guardian consent is not recorded.
REQUIRE_GUARDIAN_CONSENT = True
# The age from which guardian consent is no longer needed (18 in Japan since April 2022).
AGE_OF_MAJORITY = 18
# A case review is due for every learner in support within this many weeks before an exam round.
CASE_REVIEW_WEEKS_BEFORE_EXAM = 6

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
PERMANENT_SESSION_LIFETIME = 60 * 60 * 12

WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the sign-in session
WTF_CSRF_CHECK_DEFAULT = True

SQLALCHEMY_ENGINE_OPTIONS: dict = {"pool_pre_ping": True}
MAX_CONTENT_LENGTH = 16 * 1024 * 1024
