"""The database stops and starts again under the production server: requests during the
outage answer 503 in the error format, /healthz says so, the server recovers by itself, and a
booking of a weekly series interrupted by the outage is stored whole or not at all.

The test runs a PostgreSQL cluster of its own (initdb and pg_ctl from /usr/lib/postgresql on a
free port in a temporary folder): the shared server must never be stopped.
"""

from __future__ import annotations

import glob
import json
import os
import shutil
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from tests.conftest import TOKYO, free_port, service_missing
from tests.production.conftest import (
    ProductionServer,
    get_json,
    production_environment,
    require_gunicorn,
    seed_program,
)

pytestmark = pytest.mark.postgres


class Cluster:
    """A throwaway PostgreSQL cluster, run as the postgres user when we are root."""

    def __init__(self) -> None:
        found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
        if not found:
            service_missing("PostgreSQL server binaries are not installed (/usr/lib/postgresql)")
        self.bin = Path(found[-1]).parent
        self.folder = Path(tempfile.mkdtemp(prefix="manabi-pg-"))
        self.data = self.folder / "data"
        self.port = free_port()
        self.as_user: list[str] = []
        if os.geteuid() == 0:
            import pwd

            try:
                account = pwd.getpwnam("postgres")
            except KeyError:
                shutil.rmtree(self.folder)
                service_missing("no postgres user to run a PostgreSQL cluster as")
            os.chown(self.folder, account.pw_uid, account.pw_gid)
            self.as_user = ["runuser", "-u", "postgres", "--"]
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust", "--no-sync")
        self.start()

    def _run(self, tool: str, *args: str) -> None:
        subprocess.run(
            [*self.as_user, str(self.bin / tool), *args],
            check=True,
            capture_output=True,
            timeout=120,
        )

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/manabi"

    def start(self) -> None:
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.folder} "
            "-c fsync=off -c full_page_writes=off"
        )
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.folder / "log"),
                  "-w", "start")  # fmt: skip

    def stop(self, mode: str = "immediate") -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")

    def remove(self) -> None:
        try:
            self.stop("immediate")
        except subprocess.CalledProcessError:
            pass  # already stopped
        shutil.rmtree(self.folder, ignore_errors=True)


@pytest.fixture
def cluster():
    cluster = Cluster()
    try:
        engine = create_engine(
            cluster.url.replace("/manabi", "/postgres"), isolation_level="AUTOCOMMIT"
        )
        with engine.connect() as connection:
            connection.execute(text("CREATE DATABASE manabi"))
        engine.dispose()
        yield cluster
    finally:
        cluster.remove()


def call(url: str, token: str, path: str, payload: dict | None = None) -> tuple[int, dict]:
    request = urllib.request.Request(  # noqa: S310 (a local test server)
        url + path,
        data=json.dumps(payload).encode() if payload is not None else None,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        method="POST" if payload is not None else "GET",
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        body = error.read()
        try:
            return error.code, json.loads(body)
        except ValueError:  # not the API's error format
            return error.code, {"not_json": body.decode(errors="replace")[:300]}


def test_an_outage_answers_503_and_leaves_nothing_half_written(cluster, tmp_path):
    require_gunicorn()
    env = production_environment(cluster.url)
    server = ProductionServer(env, workers=1, log=tmp_path / "serve-prod.log")
    try:
        server.wait_ready()
        seed = seed_program(cluster.url, tmp_path / "seed")
        [url] = server.urls
        token = seed.coordinator_token
        assert call(url, token, "/api/v1/me")[0] == 200

        # Bookings of weekly series keep coming while the database goes away.
        base = (datetime.now(UTC) + timedelta(days=2)).replace(minute=0, second=0, microsecond=0)
        until = (base + timedelta(weeks=40)).date().isoformat()
        answers: list[tuple[int, dict]] = []
        stop = threading.Event()

        def book(offset: int) -> None:
            # 130 minutes apart: no two series of the same tutor clash within a week.
            for n in range(offset, 70, 3):
                if stop.is_set():
                    return
                payload = {
                    "learner_id": seed.learner_id,
                    "tutor_id": seed.tutor_id,
                    "starts_at": (base + timedelta(minutes=130 * n)).isoformat(),
                    "duration_minutes": 120,
                    "kind": "study",
                    "mode": "online",
                    "weekly_until": until,
                }
                answers.append(call(url, token, "/api/v1/sessions", payload))

        threads = [threading.Thread(target=book, args=(k,)) for k in range(3)]
        for thread in threads:
            thread.start()
        time.sleep(1.5)
        cluster.stop("immediate")
        try:
            time.sleep(1.0)
            stop.set()
            for thread in threads:
                thread.join(30)

            # During the outage: 503 in the API's error format, and /healthz says why.
            assert get_json(url + "/healthz") == (
                503,
                {"status": "error", "database": "unavailable"},
            )
            status, body = call(url, token, "/api/v1/me")
            assert status == 503
            assert body["error"]["code"] == "unavailable"
            assert body["error"]["message"]
        finally:
            cluster.start()

        # Back: the pool notices its dead connections (pre-ping) and the server answers again.
        deadline = time.monotonic() + 30
        while get_json(url + "/healthz")[0] != 200:
            assert time.monotonic() < deadline, server.output()
            time.sleep(0.2)
        assert call(url, token, "/api/v1/me")[0] == 200

        statuses = Counter(status for status, _ in answers)
        assert set(statuses) <= {201, 503}, statuses
        assert statuses[201] >= 1, statuses
        assert statuses[503] >= 1, statuses
        booked = {
            body["sessions"][0]["series_id"]: len(body["sessions"])
            for status, body in answers
            if status == 201
        }
        assert all(count > 30 for count in booked.values())
        engine = create_engine(cluster.url)
        with engine.connect() as connection:
            rows = connection.execute(
                text(
                    "SELECT series_id, starts_at FROM sessions "
                    "WHERE series_id IS NOT NULL ORDER BY series_id, starts_at"
                )
            ).all()
        engine.dispose()
        stored: dict[int, list[datetime]] = {}
        for series_id, starts_at in rows:
            stored.setdefault(series_id, []).append(starts_at)
        # Every series is whole: weekly from its start to the last week before weekly_until.
        # (A series committed just before the outage may have been answered 503: the booking
        # is stored, the client learns it on retrying, as a 409 listing it.)
        last_day = date.fromisoformat(until)
        for series_id, starts in stored.items():
            assert all(
                b - a == timedelta(weeks=1) for a, b in zip(starts, starts[1:], strict=False)
            )
            final = starts[-1].astimezone(TOKYO).date()
            assert final <= last_day < final + timedelta(weeks=1), (series_id, len(starts))
        # Every acknowledged series is stored, all of it.
        assert {series_id: len(stored.get(series_id, [])) for series_id in booked} == booked
        assert server.stop() == 0
        assert "Traceback" not in server.output(), server.output()
    finally:
        server.kill()
