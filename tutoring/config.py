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

# Attendance (docs/attendance.md).
# The room page sends a heartbeat every 30 s; an open interval with no event for longer than
# this was closed at its last event. 150 s tolerates a phone throttling timers of a background
# tab to one a minute, plus one lost heartbeat.
ATTENDANCE_STALE_SECONDS = 150
# Intervals of one person this close together merge: a reconnect is not leaving.
ATTENDANCE_MERGE_GAP_SECONDS = 60
# First joined more than this after the start: late. Exactly at the limit is on time.
ATTENDANCE_GRACE_MINUTES = 10
# Last left more than this before the end: left early.
ATTENDANCE_LEFT_EARLY_MINUTES = 10
# The server sweeps (closes abandoned intervals, derives statuses) this often; 0 turns the
# background sweep off (then run `flask --app wsgi attendance sweep` from cron).
ATTENDANCE_SWEEP_INTERVAL_SECONDS = 60
# Sessions whose room closed longer ago than this are swept only if never derived.
ATTENDANCE_SWEEP_LOOKBACK_HOURS = 12
# Sessions that ended longer ago than this are derived only by `attendance sweep --backfill`:
# installing attendance must not turn a past without presence reports into no-shows.
ATTENDANCE_DERIVE_WITHIN_DAYS = 7
# Early warnings: this many planned sessions missed in a row, or no session for this many days.
ATTENDANCE_WARNING_MISSED_IN_A_ROW = 2
ATTENDANCE_WARNING_IDLE_DAYS = 14
# Rows per page of the attendance log (the API accepts per_page up to the maximum).
ATTENDANCE_PAGE_SIZE = 50
ATTENDANCE_MAX_PAGE_SIZE = 500

# Whiteboard sockets. "threading" is the embedded default (make run); see docs/deploy.md.
SOCKETIO_ASYNC_MODE = "threading"
SOCKETIO_ORIGINS: list[str] | str | None = None
SOCKETIO_MAX_MESSAGE_BYTES = 512 * 1024

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
PERMANENT_SESSION_LIFETIME = 60 * 60 * 12

WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the sign-in session
WTF_CSRF_CHECK_DEFAULT = True

SQLALCHEMY_ENGINE_OPTIONS: dict = {"pool_pre_ping": True}
MAX_CONTENT_LENGTH = 16 * 1024 * 1024
