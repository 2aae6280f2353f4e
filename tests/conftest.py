"""Shared fixtures: a fresh database per test, factories, signed-in clients.

The suite runs on SQLite; with TUTORING_TEST_DATABASE_URL set it runs on that PostgreSQL
database instead. Services that are absent skip their tests, unless
TUTORING_REQUIRE_SERVICES=1 (CI), which turns the skip into a failure.
"""

from __future__ import annotations

import itertools
import logging
import os
import re
import shutil
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text
from werkzeug.serving import make_server

from tutoring import create_app
from tutoring.extensions import db
from tutoring.people.models import User
from tutoring.scheduling import service as scheduling_service
from tutoring.scheduling.models import Kind, Mode, TutoringSession, Venue

ROOT = Path(__file__).resolve().parent.parent
REQUIRE_SERVICES = os.environ.get("TUTORING_REQUIRE_SERVICES") == "1"
POSTGRES_URL = os.environ.get("TUTORING_TEST_DATABASE_URL")
PASSWORD = "correct horse battery"

BASE_CONFIG = {
    "TESTING": True,
    "SECRET_KEY": "test-secret-key",
    "ARGON2_PROFILE": "CHEAPEST",  # full-strength hashing would slow every factory call
    "REDIS_URL": None,
    "RATELIMIT_STORAGE_URI": "memory://",
    # Most tests sign staff in directly; tests/auth/test_two_factor.py turns the rule on.
    "TWO_FACTOR_REQUIRED_ROLES": [],
}


def service_missing(reason: str) -> None:
    """Skip the test for a missing service, or fail when services are required."""
    if REQUIRE_SERVICES:
        pytest.fail(f"{reason} (TUTORING_REQUIRE_SERVICES=1)", pytrace=False)
    pytest.skip(reason)


def postgres_reachable(url: str) -> bool:
    engine = create_engine(url, connect_args={"connect_timeout": 3})
    try:
        with engine.connect():
            return True
    except Exception:
        return False
    finally:
        engine.dispose()


@pytest.fixture(scope="session")
def database_template(tmp_path_factory) -> str:
    """Create the schema once; SQLite tests copy the file, PostgreSQL tests truncate."""
    if POSTGRES_URL:
        if not postgres_reachable(POSTGRES_URL):
            service_missing(f"PostgreSQL is not reachable at {POSTGRES_URL}")
        url = POSTGRES_URL
        engine = create_engine(url)
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
        engine.dispose()
    else:
        url = "sqlite:///" + str(tmp_path_factory.mktemp("template") / "template.sqlite3")
    app = create_app(
        {**BASE_CONFIG, "DATABASE_URL": url}, instance_path=str(tmp_path_factory.mktemp("inst"))
    )
    with app.app_context():
        db.create_all()
        db.engine.dispose()
    return url


class ServerErrors(logging.Handler):
    """Collects errors the app logged (tracebacks of 500s), so a test can fail on them."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def app_config() -> dict:
    """Extra configuration for the test's app; override in a module to change it."""
    return {}


@pytest.fixture
def app(database_template: str, tmp_path: Path, app_config: dict, request) -> Flask:
    """Return an app on a fresh database, failing the test if the app logs an error."""
    instance = tmp_path / "instance"
    instance.mkdir()
    if database_template.startswith("sqlite"):
        copy = tmp_path / "manabi.sqlite3"
        shutil.copy(database_template.removeprefix("sqlite:///"), copy)
        url = f"sqlite:///{copy}"
    else:
        url = database_template
    app = create_app(
        {**BASE_CONFIG, "DATABASE_URL": url, **app_config}, instance_path=str(instance)
    )
    errors = ServerErrors()
    app.logger.addHandler(errors)
    yield app
    app.logger.removeHandler(errors)
    with app.app_context():
        if not url.startswith("sqlite"):
            _truncate_all()
        db.session.remove()
        db.engine.dispose()
    if errors.records and not request.node.get_closest_marker("server_errors_expected"):
        pytest.fail("the app logged errors: " + "; ".join(r.getMessage() for r in errors.records))


@pytest.fixture
def live_server(app):
    """Serve the test's app on 127.0.0.1 with a free port; yield its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(5)
    server.server_close()


def _truncate_all() -> None:
    """Empty every table; retried, since a request a test left in flight may still hold a lock."""
    import time

    from sqlalchemy.exc import OperationalError

    tables = ", ".join(f'"{t.name}"' for t in db.metadata.sorted_tables)
    for attempt in range(5):
        try:
            db.session.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
            db.session.commit()
            return
        except OperationalError:
            db.session.rollback()
            if attempt == 4:
                raise
            time.sleep(0.5)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask):
    return app.test_cli_runner()


@dataclass(frozen=True)
class Account:
    """What a test needs of a user it made; the ORM object stays inside the app context."""

    id: int
    email: str | None
    login_name: str | None
    name: str
    role: str
    password: str
    session_version: int

    @property
    def sign_in_name(self) -> str:
        return self.email or self.login_name or ""


@pytest.fixture
def make_user(app: Flask):
    """Return a factory: make_user(role="learner", email=..., name=..., password=...)."""
    from tutoring.people import service
    from tutoring.people.models import Role

    counter = itertools.count(1)

    def make(
        role: str = "learner",
        *,
        email: str | None = None,
        name: str | None = None,
        password: str | None = PASSWORD,
        login_name: str | None = None,
        active: bool = True,
        with_email: bool = True,
    ) -> Account:
        n = next(counter)
        if email is None and login_name is None and with_email:
            email = f"{role}{n}@example.org"
        with app.app_context():
            user = service.create_user(
                None,
                name=name or f"{role.title()} {n}",
                role=Role(role),
                email=email,
                login_name=login_name,
                password=password,
            )
            user.active = active
            db.session.commit()
            return Account(
                user.id,
                user.email,
                user.login_name,
                user.name,
                role,
                password or "",
                user.session_version,
            )

    return make


@pytest.fixture
def make_token(app: Flask):
    """Return a factory: make_token(account) -> raw bearer token."""
    from tutoring.auth import service
    from tutoring.people.models import User

    def make(account: Account, name: str = "test") -> str:
        with app.app_context():
            _token, raw = service.create_token(db.session.get(User, account.id), name)
            db.session.commit()
            return raw

    return make


@pytest.fixture
def login_as(client: FlaskClient):
    """Return a helper that signs the test client in as an account without the form."""

    def login(account: Account, target: FlaskClient | None = None) -> FlaskClient:
        target = target or client
        with target.session_transaction() as session:
            session["_user_id"] = f"{account.id}.{account.session_version}"
            session["_fresh"] = True
        return target

    return login


CSRF_FIELD = re.compile(r'<input[^>]*name="csrf_token"[^>]*value="([^"]+)"')


def csrf_token(client: FlaskClient, page: str = "/login") -> str:
    """Return a CSRF token for the client's session, taken from a page with a form."""
    response = client.get(page)
    match = CSRF_FIELD.search(response.get_data(as_text=True))
    assert match, f"no CSRF field on {page} ({response.status_code})"
    return match.group(1)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


# A small program: people, a venue, and a booking shortcut (used by every feature after scheduling)

TOKYO = ZoneInfo("Asia/Tokyo")


def tokyo(*args) -> datetime:
    """Return an aware datetime in Asia/Tokyo."""
    return datetime(*args, tzinfo=TOKYO)


@dataclass
class Program:
    coordinator: Account
    tutor: Account
    other_tutor: Account
    learner: Account
    other_learner: Account
    venue_id: int


@pytest.fixture
def program(app, make_user) -> Program:
    with app.app_context():
        venue = scheduling_service.save_venue(
            None, name="中央公民館", address="多摩市中央1-2-3", online=False, active=True
        )
        db.session.commit()
        venue_id = venue.id
    return Program(
        coordinator=make_user("coordinator", name="佐藤 恵美"),
        tutor=make_user("tutor", name="鈴木 健一"),
        other_tutor=make_user("tutor", name="高橋 美咲"),
        learner=make_user("learner", name="田中 陽向"),
        other_learner=make_user("learner", name="伊藤 蓮"),
        venue_id=venue_id,
    )


@pytest.fixture
def book(app, program):
    """Return book(starts_at, learner=..., tutor=..., minutes=120, weekly_until=None, ...) -> ids."""

    def book_(
        starts_at,
        *,
        learner=None,
        tutor=None,
        minutes=120,
        weekly_until=None,
        kind=Kind.STUDY,
        mode=Mode.ONLINE,
        venue_id=None,
    ) -> list[int]:
        with app.app_context():
            sessions = scheduling_service.book_sessions(
                db.session.get(User, program.coordinator.id),
                learner=db.session.get(User, (learner or program.learner).id),
                tutor=db.session.get(User, (tutor or program.tutor).id),
                starts_at=starts_at,
                duration_minutes=minutes,
                kind=kind,
                mode=mode,
                venue=db.session.get(Venue, venue_id) if venue_id else None,
                weekly_until=weekly_until,
            )
            db.session.commit()
            return [s.id for s in sessions]

    return book_


@pytest.fixture
def world(app, program, book, make_user, make_token) -> dict:
    """One open session and a record of each kind: every route's parameters (tests/matrix.py)."""
    from tests.matrix import build_world

    return build_world(app, program, book, make_user, make_token)


def session_count(app) -> int:
    with app.app_context():
        return db.session.query(TutoringSession).count()


# Real server processes, for tests across processes (Redis message queue, crashes)


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class ServerProcess:
    """`flask --app wsgi run` in a subprocess on a free port, as `make run` serves it."""

    def __init__(
        self, database_url: str, instance: Path, port: int | None = None, **env: str
    ) -> None:
        import subprocess
        import sys

        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        environment = {
            **os.environ,
            "TUTORING_ENV": "development",
            "TUTORING_SECRET_KEY": BASE_CONFIG["SECRET_KEY"],
            "TUTORING_DATABASE_URL": database_url,
            "TUTORING_ARGON2_PROFILE": "CHEAPEST",
            **env,
        }
        self.log = (instance / f"server-{self.port}.log").open("w")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "flask",
                "--app",
                "wsgi",
                "run",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
            ],
            cwd=ROOT,
            env=environment,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )

    def wait_ready(self, timeout: float = 20) -> ServerProcess:
        import time
        import urllib.request

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited with {self.process.returncode}")
            try:
                with urllib.request.urlopen(f"{self.url}/healthz", timeout=1) as response:  # noqa: S310
                    if response.status == 200:
                        return self
            except OSError:
                time.sleep(0.2)
        raise TimeoutError(f"server on {self.port} did not answer /healthz")

    def stop(self, signal_number: int | None = None) -> None:
        import signal

        if self.process.poll() is None:
            self.process.send_signal(signal_number or signal.SIGTERM)
            try:
                self.process.wait(10)
            except Exception:
                self.process.kill()
                self.process.wait(5)
        self.log.close()


@pytest.fixture
def server_processes(app, tmp_path):
    """Return a factory starting server processes on the test's database; all stop afterwards."""
    started: list[ServerProcess] = []

    def start(port: int | None = None, **env: str) -> ServerProcess:
        server = ServerProcess(app.config["SQLALCHEMY_DATABASE_URI"], tmp_path, port, **env)
        started.append(server)
        return server.wait_ready()

    yield start
    for server in started:
        server.stop()


@contextmanager
def new_postgres_database(prefix: str):
    """Create an empty PostgreSQL database for one test; yield its URL; drop it afterwards."""
    import uuid

    from sqlalchemy.engine import make_url

    if not postgres_reachable(POSTGRES_URL):
        service_missing("PostgreSQL is not reachable")
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(
        make_url(POSTGRES_URL).set(database="postgres"), isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def redis_available(url: str) -> bool:
    import redis

    client = redis.Redis.from_url(url, socket_connect_timeout=2)
    try:
        return bool(client.ping())
    except redis.exceptions.ConnectionError:
        return False
    finally:
        client.close()


# Headless Chromium, one Playwright instance for the whole run (two cannot share a process)


@pytest.fixture(scope="session")
def browser():
    from tests.browser.conftest import AXE, CHROMIUM, CHROMIUM_ARGS

    if not CHROMIUM.exists():
        service_missing("Chromium is not installed at /usr/bin/chromium (apt-get install chromium)")
    if not AXE.exists():
        service_missing("axe-core is not installed (npm ci)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def new_page(browser):
    """Return a factory for pages in fresh contexts: new_page(viewport=PHONE, locale="ja-JP")."""
    from tests.browser.conftest import DESKTOP

    contexts = []

    def make(viewport=DESKTOP, locale="ja-JP", **options):
        context = browser.new_context(viewport=viewport, locale=locale, **options)
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()
