"""Manabi: one-on-one online tutoring for youth learning-support programs."""

from __future__ import annotations

import copy
import hashlib
import importlib
import logging
import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask, redirect, request, url_for
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError
from werkzeug.exceptions import NotFound
from werkzeug.routing import IntegerConverter

from tutoring import config as defaults
from tutoring.extensions import babel, csrf, db, limiter, login_manager, migrate, oauth, socketio
from tutoring.validation import MAX_ROW_ID

RELAXED_ENVS = ("development", "testing")
# Every feature's models, imported before migrations or create_all look at the metadata.
MODEL_MODULES = (
    "tutoring.people.models",
    "tutoring.auth.models",
    "tutoring.scheduling.models",
    "tutoring.attendance.models",
    "tutoring.whiteboard.models",
    "tutoring.notify.models",
    "tutoring.records.models",
    "tutoring.notes.models",
    "tutoring.partners.models",
    "tutoring.reports.models",
)


class RowId(IntegerConverter):
    """`<int:…>` in a route: a whole number up to the largest id a column can hold."""

    def to_python(self, value: str) -> int:
        number = super().to_python(value)
        if number > MAX_ROW_ID:
            # Not ValidationError: Werkzeug would answer 405 where the path has other methods.
            raise NotFound()
        return number


def create_app(
    config: Mapping[str, Any] | None = None, *, instance_path: str | None = None
) -> Flask:
    """Create the application: defaults, instance/config.py, TUTORING_* variables, then config."""
    app = Flask(
        __name__,
        instance_path=instance_path,
        instance_relative_config=True,
        static_folder="../static",
        template_folder="../templates",
    )
    app.config.from_object(defaults)
    # Nested TUTORING_A__B variables fill dicts in place: give each app its own copies.
    app.config.update(
        copy.deepcopy({k: v for k, v in app.config.items() if isinstance(v, dict | list)})
    )
    app.config.from_pyfile("config.py", silent=True)
    app.config.from_prefixed_env("TUTORING")
    if config:
        app.config.update(config)
    _finish_config(app)
    app.json.ensure_ascii = False  # Japanese stays readable in API answers
    app.json.sort_keys = False
    # Before any route is added: an id in a path beyond what a column holds is a 404, not
    # an overflow in the database driver (a 500).
    app.url_map.converters["int"] = RowId

    from tutoring.logs import install as redact_logs

    redact_logs()
    register_extensions(app)
    _check_integrations(app)
    register_blueprints(app)
    register_cli(app)
    return app


def serving() -> bool:
    """Tell whether this process loaded the app to serve it, not to run a command.

    A WSGI server (gunicorn) imports wsgi.py outside any click command, and `flask run` loads
    it inside its own; other commands (db upgrade, demo, notify worker, …) inside theirs or
    the group's.
    """
    import click

    context = click.get_current_context(silent=True)
    return context is None or context.info_name == "run"


def warm_up_when_serving(app: Flask) -> None:
    """In a server process, pay the first join's one-time costs in the background now.

    The database connection and the compiled queries (whiteboard/replay.py, warm_up), while
    the server waits for its first client rather than while that client waits.
    """
    if serving() and not app.testing:
        from tutoring.whiteboard.replay import warm_up

        socketio.start_background_task(warm_up, app)


def _finish_config(app: Flask) -> None:
    """Derive settings that depend on others, and refuse to run without a secret outside dev."""
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    if app.config.get("TESTING"):
        app.config["ENV"] = "testing"
    if not app.config.get("SECRET_KEY"):
        if app.config["ENV"] not in RELAXED_ENVS:
            raise RuntimeError(
                "TUTORING_SECRET_KEY is not set. Set it (e.g. in the environment or "
                "instance/config.py), or set TUTORING_ENV=development for a local server."
            )
        app.config["SECRET_KEY"] = _development_secret(Path(app.instance_path))
    app.config["SQLALCHEMY_DATABASE_URI"] = app.config.get("DATABASE_URL") or (
        "sqlite:///" + os.path.join(app.instance_path, "manabi.sqlite3")
    )
    app.config.setdefault("RATELIMIT_STORAGE_URI", app.config.get("REDIS_URL") or "memory://")
    app.config["REDIS_CHANNEL"] = app.config.get("REDIS_CHANNEL") or redis_channel(
        app.config["SQLALCHEMY_DATABASE_URI"]
    )
    if str(app.config["RATELIMIT_STORAGE_URI"]).startswith("redis"):
        # Through the storage's options rather than RATELIMIT_KEY_PREFIX, which the shared
        # limiter would keep from the first app of a process (tests make many).
        options = dict(app.config.get("RATELIMIT_STORAGE_OPTIONS") or {})
        options.setdefault("key_prefix", app.config["REDIS_CHANNEL"])
        app.config["RATELIMIT_STORAGE_OPTIONS"] = options
    app.config["RATELIMIT_HEADERS_ENABLED"] = True
    app.config["BABEL_DEFAULT_TIMEZONE"] = app.config["TIMEZONE"]
    if app.config["HTTPS"]:
        # The __Host- prefix makes browsers refuse the cookie unless Secure, for this host only.
        app.config.update(
            SESSION_COOKIE_SECURE=True,
            SESSION_COOKIE_NAME="__Host-session",
            REMEMBER_COOKIE_SECURE=True,
            PREFERRED_URL_SCHEME="https",
        )
    if app.config["TRUSTED_PROXIES"]:
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = int(app.config["TRUSTED_PROXIES"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(Path(__file__).parent / "translations")


def redis_channel(database_url: str) -> str:
    """Return the Redis channel of the deployment whose database is database_url."""
    from sqlalchemy.engine import make_url

    url = make_url(database_url)
    # Without the password or driver, so rotating either does not split one deployment's processes.
    identity = f"{url.get_backend_name()}://{url.username}@{url.host}:{url.port}/{url.database}"
    return "manabi-" + hashlib.sha256(identity.encode()).hexdigest()[:12]


def _check_integrations(app: Flask) -> None:
    """Read the Jitsi keys and sign-in providers now, so a configuration error stops the start."""
    from tutoring.auth.oauth import register_providers
    from tutoring.crypto import configured_keys
    from tutoring.rooms.jitsi import keys_from_config

    app.extensions["jitsi_keys"] = keys_from_config(app.config)
    app.extensions["data_keys"] = configured_keys(app.config)
    register_providers(app)


def _development_secret(instance: Path) -> str:
    """Return a secret kept in instance/, so local sign-ins survive restarts."""
    path = instance / "dev-secret-key"
    if not path.exists():
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record) -> None:
    """Turn on WAL and foreign keys for SQLite; other databases are left alone."""
    module = type(dbapi_connection).__module__
    if not module.startswith("sqlite3"):
        return
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


def register_extensions(app: Flask) -> None:
    from tutoring.i18n import register_filters, select_locale
    from tutoring.people.models import User
    from tutoring.realtime import client_manager as realtime_client_manager
    from tutoring.whiteboard import wire as whiteboard_wire

    for module in MODEL_MODULES:
        importlib.import_module(module)

    db.init_app(app)
    # Registered after Flask-SQLAlchemy's own teardown, so it runs first (teardowns run in
    # reverse): closing the session rolls back, and when the database went away during the
    # request that rollback fails. Raised in a teardown, the error would replace the answer
    # already chosen (a 503, or a 201 whose commit went through) with a bare 500.
    app.teardown_appcontext(close_session_even_without_database)
    migrate.init_app(app, db, directory=str(Path(app.root_path).parent / "migrations"))
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.session_protection = "basic"
    babel.init_app(app, locale_selector=select_locale)
    csrf.init_app(app)
    limiter.init_app(app)
    oauth.init_app(app)
    register_socket_namespaces()
    socketio.init_app(
        app,
        async_mode=app.config["SOCKETIO_ASYNC_MODE"],
        # With Redis, the message queue between processes, skipped for a room whose members are
        # all in this process; None (the in-process manager) without. Always passed: the
        # shared SocketIO keeps the options of the previous init_app (tests make many apps).
        client_manager=realtime_client_manager(app.config),
        # None: only this site's own origin may open a socket.
        cors_allowed_origins=app.config.get("SOCKETIO_ORIGINS"),
        # One client's events are handled in order: stroke order matters.
        async_handlers=False,
        # The largest legal stroke (5000 points with pressures) fits; anything bigger is refused.
        max_http_buffer_size=app.config["SOCKETIO_MAX_MESSAGE_BYTES"],
        logger=False,
        engineio_logger=False,
        # json.dumps plus pre-encoded parts: a board's replay is sent as the cached text.
        json=whiteboard_wire,
    )
    app.wsgi_app = WithoutWebSocketCompression(app.wsgi_app)
    register_filters(app)

    @login_manager.user_loader
    def load_user(session_id: str) -> User | None:
        user_id, _, version = session_id.partition(".")
        if not user_id.isdigit() or not version.isdigit():
            return None
        user = db.session.get(User, int(user_id))
        if user is None or user.session_version != int(version):
            return None
        return user

    @login_manager.unauthorized_handler
    def unauthorized():
        from flask import abort

        if request.path.startswith("/api/"):
            abort(401)
        return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))

    @app.after_request
    def security_headers(response):
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        # Room JWTs and invitation tokens travel in URLs: no page leaks its address to another
        # site. Our own site still gets the Referer, which Flask-WTF requires over HTTPS
        # (with "no-referrer" every form and API write failed behind TLS).
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("Content-Security-Policy", content_security_policy())
        if app.config["HTTPS"]:
            response.headers.setdefault(
                "Strict-Transport-Security", "max-age=31536000; includeSubDomains"
            )
        return response


def content_security_policy() -> str:
    """Return the page's CSP: our own files only, plus the Jitsi domain on room pages."""
    from flask import current_app, g

    video = f" https://{current_app.config['JITSI_DOMAIN']}" if g.get("embeds_jitsi") else ""
    frames = video or " 'none'"
    return (
        f"default-src 'self'; script-src 'self'{video}; style-src 'self'; "
        "img-src 'self' data: blob:; connect-src 'self'; "
        "worker-src 'self'; manifest-src 'self'; "
        f"frame-src{frames}; frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
    )


def register_socket_namespaces() -> None:
    """Register the Socket.IO namespaces once on the shared SocketIO object."""
    from tutoring.whiteboard.events import WhiteboardNamespace

    if not any(isinstance(h, WhiteboardNamespace) for h in socketio.namespace_handlers):
        socketio.on_namespace(WhiteboardNamespace())


def close_session_even_without_database(_error: BaseException | None = None) -> None:
    """End the request's database session; a database gone away loses only the rollback."""
    try:
        db.session.remove()
    except DBAPIError as error:
        # The pool has invalidated the dead connection; forget the session that held it.
        db.session.registry.clear()
        logging.getLogger(__name__).warning(
            "database gone while closing a session: %s", error.__class__.__name__
        )


class WithoutWebSocketCompression:
    """Hide a browser's offer of WebSocket compression (permessage-deflate) from the server.

    The embedded server's simple-websocket accepts every offer, and deflating a big board's
    replay holds the process's CPU, and so every room's relay, for most of a second (730 ms
    per join of a 10,000-item board against 50 ms without; bench/whiteboard_join.py
    --client node). gevent-websocket, the production server's, never compresses: both now
    send the same bytes.
    """

    def __init__(self, wsgi_app) -> None:
        self.wsgi_app = wsgi_app

    def __call__(self, environ, start_response):
        environ.pop("HTTP_SEC_WEBSOCKET_EXTENSIONS", None)
        return self.wsgi_app(environ, start_response)


def register_blueprints(app: Flask) -> None:
    from tutoring.api.views import bp as api_bp
    from tutoring.attendance.views import bp as attendance_bp
    from tutoring.auth.views import bp as auth_bp
    from tutoring.dashboard.views import bp as dashboard_bp
    from tutoring.errors import register_error_handlers
    from tutoring.health import bp as health_bp
    from tutoring.notes.views import bp as notes_bp
    from tutoring.notify.views import bp as notify_bp
    from tutoring.partners.views import bp as partners_bp
    from tutoring.people.views import bp as people_bp
    from tutoring.records.views import bp as records_bp
    from tutoring.reports.views import bp as reports_bp
    from tutoring.rooms.views import bp as rooms_bp
    from tutoring.scheduling.views import bp as scheduling_bp
    from tutoring.whiteboard.views import bp as whiteboard_bp

    blueprints = (
        health_bp,
        auth_bp,
        people_bp,
        dashboard_bp,
        scheduling_bp,
        rooms_bp,
        notify_bp,
        whiteboard_bp,
        records_bp,
        notes_bp,
        attendance_bp,
        partners_bp,
        reports_bp,
        api_bp,
    )
    for blueprint in blueprints:
        app.register_blueprint(blueprint)
    register_error_handlers(app)


def register_cli(app: Flask) -> None:
    from tutoring.cli import register

    register(app)
