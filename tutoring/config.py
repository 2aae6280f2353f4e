"""Configuration defaults; overridden by instance/config.py, TUTORING_* variables, then tests."""

from __future__ import annotations

# "development" and "testing" may run without a secret key; anything else refuses to start.
ENV = "production"
SECRET_KEY: str | None = None

# Unset means SQLite in the instance folder (see create_app).
DATABASE_URL: str | None = None
REDIS_URL: str | None = None
# Prefix of everything this deployment keeps in Redis: the Socket.IO message queue's pub/sub
# channel and the rate-limit keys. Unset: derived from DATABASE_URL (without its password), so
# two programs (or staging and production) sharing one Redis never see each other's rooms,
# whatever its database number; every process of one deployment derives the same.
REDIS_CHANNEL: str | None = None

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
# Raw presence reports (a heartbeat every 30 s per person) are deleted this many days after
# their session ended, once the sweep has folded them into stored intervals; 0 keeps them.
ATTENDANCE_EVENT_RETENTION_DAYS = 90
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
# With REDIS_URL: a whiteboard room's messages stay in the process when all its members are
# connected to it (tutoring/realtime.py); False publishes every message to Redis, as
# python-socketio's own RedisManager does. A process tells the others every
# ..._HEARTBEAT_SECONDS that it is alive, and counts as gone when not heard from for
# ..._EXPIRY_SECONDS (keep it above Socket.IO's ping timeout, 45 s).
SOCKETIO_LOCAL_ROOMS = True
SOCKETIO_ROOM_HEARTBEAT_SECONDS = 10.0
SOCKETIO_ROOM_EXPIRY_SECONDS = 60.0

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

# hide_parameters: a database error's message (logged with its traceback) would otherwise
# carry the statement's values: names, notes, e-mail addresses.
# pool_size: under gevent every whiteboard event waiting on the database holds a connection;
# with the default 5, busy rooms opened and closed a PostgreSQL connection per stroke
# (docs/benchmarks.md). 20 kept plus 10 at peaks is 30 connections per server process:
# PostgreSQL's max_connections (100 by default) must cover every process (docs/deploy.md).
SQLALCHEMY_ENGINE_OPTIONS: dict = {
    "pool_pre_ping": True,
    "hide_parameters": True,
    "pool_size": 20,
    "max_overflow": 10,
}
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

# Reminders and follow-up (docs/reminders.md). A channel without its settings stays off.
# The site's address in links of messages sent by workers (no request to take it from).
PUBLIC_URL: str | None = None
# E-mail over SMTP. Port 587 with STARTTLS, or SMTP_SSL for port 465.
SMTP_HOST: str | None = None
SMTP_PORT = 587
SMTP_USERNAME: str | None = None
SMTP_PASSWORD: str | None = None
SMTP_STARTTLS = True
SMTP_SSL = False
SMTP_FROM = "Manabi <no-reply@example.org>"
SMTP_TIMEOUT = 15
# LINE Messaging API: the channel access token of the program's LINE Official Account.
LINE_CHANNEL_ACCESS_TOKEN: str | None = None
LINE_API_BASE_URL = "https://api.line.me"
LINE_TIMEOUT = 10
# Web Push: a P-256 key (PEM, or base64url raw) or the file instance/vapid-private.pem
# (`flask --app wsgi notify vapid-keys`); development makes the file by itself.
VAPID_PRIVATE_KEY: str | None = None
VAPID_PRIVATE_KEY_PATH: str | None = None
VAPID_SUBJECT: str | None = None  # "mailto:…" or "https://…": whom push services may contact
WEBPUSH_TIMEOUT = 10
# The worker posts to subscription endpoints, so only browser push services are accepted.
WEBPUSH_ALLOWED_HOSTS = (
    "fcm.googleapis.com",
    "push.services.mozilla.com",
    "push.apple.com",
    "notify.windows.com",
)
WEBPUSH_ALLOW_HTTP = False  # tests only: a local stand-in push service
# The scheduler. None: a background thread in the server in development only; production
# runs `flask --app wsgi notify worker` as its own service (several may run).
NOTIFY_WORKER_THREAD: bool | None = None
NOTIFY_POLL_SECONDS = 30
NOTIFY_BATCH_SIZE = 50
NOTIFY_MAX_ATTEMPTS = 6
NOTIFY_RETRY_BASE_SECONDS = 60  # doubles per attempt: 1, 2, 4, 8, 16 minutes
NOTIFY_RETRY_MAX_SECONDS = 60 * 60
NOTIFY_CLAIM_TIMEOUT_SECONDS = 5 * 60  # a worker that died while sending: try again after this
# Missed sessions: only those that ended this recently, so history does not trigger messages.
NOTIFY_MISSED_LOOKBACK_HOURS = 72
# Also treat an online session as missed when the tutor was in the room and the learner never.
NOTIFY_MISSED_FROM_PRESENCE = True
