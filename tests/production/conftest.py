"""The production command for real: `flask --app wsgi serve-prod` on a PostgreSQL database of
the test's own and Redis, with a few people and an open session made through the services."""

from __future__ import annotations

import base64
import json
import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tests.conftest import (
    BASE_CONFIG,
    POSTGRES_URL,
    ROOT,
    free_port,
    postgres_reachable,
    redis_available,
    service_missing,
)
from tests.whiteboard.conftest import open_session, quick_websocket_close  # noqa: F401

# The server that holds the databases these tests create (and drop); TUTORING_TEST_DATABASE_URL
# names it when set, so the SQLite pass and the PostgreSQL pass use the same server.
POSTGRES_SERVER = POSTGRES_URL or os.environ.get(
    "TUTORING_PRODUCTION_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
REDIS_URL = "redis://127.0.0.1:6379/12"


def require_redis() -> None:
    if not redis_available(REDIS_URL):
        service_missing("Redis is not reachable at 127.0.0.1:6379")


def require_gunicorn() -> None:
    from importlib.util import find_spec

    # Looked up, not imported: gevent stays out of the test process.
    for name in ("gunicorn", "gevent", "geventwebsocket"):
        if find_spec(name) is None:
            service_missing(f"{name} is not installed (pip install -e '.[prod]')")


@contextmanager
def own_postgres_database(prefix: str = "test_prod"):
    """Create an empty database on POSTGRES_SERVER; yield its URL; drop it afterwards."""
    if not postgres_reachable(POSTGRES_SERVER):
        service_missing(f"PostgreSQL is not reachable at {POSTGRES_SERVER}")
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(
        make_url(POSTGRES_SERVER).set(database="postgres"), isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(POSTGRES_SERVER).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def production_environment(database_url: str, **extra: str) -> dict[str, str]:
    """Return what an operator sets: production, secrets, PostgreSQL (Redis added by callers)."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("TUTORING_") or key == "TUTORING_REQUIRE_SERVICES"
    }
    env.update(
        {
            "TUTORING_ENV": "production",
            "TUTORING_SECRET_KEY": secrets.token_hex(32),
            "TUTORING_DATA_KEYS__k1": base64.b64encode(secrets.token_bytes(32)).decode(),
            "TUTORING_DATA_KEY_CURRENT": "k1",
            "TUTORING_DATABASE_URL": database_url,
            "TUTORING_ARGON2_PROFILE": "CHEAPEST",
            "TUTORING_TWO_FACTOR_REQUIRED_ROLES": "[]",
        }
    )
    env.update(extra)
    return env


def consecutive_free_ports(count: int) -> int:
    """Return a port p such that p … p+count-1 are free now."""
    import socket

    for _ in range(50):
        first = free_port()
        try:
            probes = []
            for port in range(first, first + count):
                probe = socket.socket()
                probes.append(probe)
                probe.bind(("127.0.0.1", port))
            return first
        except OSError:
            continue
        finally:
            for probe in probes:
                probe.close()
    raise RuntimeError("no consecutive free ports")


def get_json(url: str, timeout: float = 3) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 (local)
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


class ProductionServer:
    """`flask --app wsgi serve-prod --workers N` in a subprocess (its own process group)."""

    def __init__(self, env: dict[str, str], workers: int, log: Path) -> None:
        self.first_port = consecutive_free_ports(workers)
        self.urls = [f"http://127.0.0.1:{self.first_port + n}" for n in range(workers)]
        self.log_path = log
        self.log = log.open("w")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "flask",
                "--app",
                "wsgi",
                "serve-prod",
                "--workers",
                str(workers),
                "--port",
                str(self.first_port),
            ],
            cwd=ROOT,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def output(self) -> str:
        if not self.log.closed:
            self.log.flush()
        return self.log_path.read_text(errors="replace")

    def wait_ready(self, timeout: float = 60) -> ProductionServer:
        deadline = time.monotonic() + timeout
        waiting = list(self.urls)
        while waiting and time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"serve-prod exited {self.process.returncode}:\n{self.output()}")
            try:
                if get_json(waiting[0] + "/healthz", timeout=1)[0] == 200:
                    waiting.pop(0)
                    continue
            except OSError:
                pass
            time.sleep(0.2)
        if waiting:
            raise TimeoutError(f"{waiting} did not answer /healthz:\n{self.output()}")
        return self

    def worker_pids(self, port: int) -> list[int]:
        """Return the pids of the gunicorn (master, worker) serving port."""
        found = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                command = (entry / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if b"gunicorn" in command and f"127.0.0.1:{port}".encode() in command:
                found.append(int(entry.name))
        return found

    def stop(self, timeout: float = 30) -> int:
        """Send SIGTERM to the launcher and return its exit status."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(5)
                raise
        self.log.close()
        return self.process.returncode

    def kill(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(5)
        if not self.log.closed:
            self.log.close()


@dataclass
class Seed:
    session_id: int
    tutor_id: int
    learner_id: int
    tutor_token: str
    learner_token: str
    coordinator_token: str


def seed_program(database_url: str, instance: Path) -> Seed:
    """Make a coordinator, a tutor, a learner, an open session and tokens, as the services do."""
    from tutoring import create_app
    from tutoring.auth.service import create_token
    from tutoring.database import utcnow
    from tutoring.extensions import db
    from tutoring.people import service as people
    from tutoring.people.models import Role
    from tutoring.scheduling import service as scheduling
    from tutoring.scheduling.models import Kind, Mode

    app = create_app({**BASE_CONFIG, "DATABASE_URL": database_url}, instance_path=str(instance))
    with app.app_context():
        coordinator = people.create_user(
            None, name="佐藤 恵美", role=Role.COORDINATOR, email="c@example.org", password=None
        )
        tutor = people.create_user(
            None, name="鈴木 健一", role=Role.TUTOR, email="t@example.org", password=None
        )
        learner = people.create_user(
            None, name="田中 陽向", role=Role.LEARNER, email="l@example.org", password=None
        )
        db.session.flush()
        [session] = scheduling.book_sessions(
            coordinator,
            learner=learner,
            tutor=tutor,
            starts_at=utcnow().replace(microsecond=0) - timedelta(minutes=5),
            duration_minutes=120,
            kind=Kind.STUDY,
            mode=Mode.ONLINE,
            venue=None,
            weekly_until=None,
        )
        tokens = [create_token(user, "test")[1] for user in (tutor, learner, coordinator)]
        db.session.commit()
        seed = Seed(session.id, tutor.id, learner.id, *tokens)
        db.session.remove()
        db.engine.dispose()
    return seed


@pytest.fixture
def production(tmp_path):
    """Return start(workers=2, redis=True, **env) -> a ready ProductionServer on a new database.

    The database is migrated by the command itself; `seed` of the server holds its people.
    """
    require_gunicorn()
    started: list[ProductionServer] = []
    with own_postgres_database() as database_url:

        def start(workers: int = 2, *, redis: bool = True, **env: str) -> ProductionServer:
            extra = dict(env)
            if redis:
                require_redis()
                extra.setdefault("TUTORING_REDIS_URL", REDIS_URL)
                # A channel of the test's own: other runs on this Redis stay apart.
                extra.setdefault("TUTORING_REDIS_CHANNEL", f"test-{uuid.uuid4().hex[:12]}")
            log = tmp_path / f"serve-prod-{len(started)}.log"
            server = ProductionServer(production_environment(database_url, **extra), workers, log)
            started.append(server)
            server.wait_ready()
            server.database_url = database_url
            if not hasattr(start, "seed"):
                instance = tmp_path / "seed-instance"
                instance.mkdir()
                start.seed = seed_program(database_url, instance)
            server.seed = start.seed
            return server

        yield start
        for server in started:
            server.kill()
