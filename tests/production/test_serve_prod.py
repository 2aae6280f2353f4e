"""`flask --app wsgi serve-prod`: two gunicorn processes (gevent-websocket) sharing rooms
through Redis, migrations applied on start, a clean stop on SIGTERM."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest
import socketio
from sqlalchemy import create_engine, text

from tests.conftest import ROOT
from tests.production.conftest import get_json, production_environment
from tests.whiteboard.conftest import NAMESPACE, BoardClient, stroke_payload
from tutoring.production import settings_problems

pytestmark = [pytest.mark.postgres, pytest.mark.redis]


def get_status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 (local)
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def port_open(url: str) -> bool:
    host, port = url.removeprefix("http://").split(":")
    with socket.socket() as probe:
        probe.settimeout(1)
        return probe.connect_ex((host, int(port))) == 0


def test_two_processes_share_a_room_and_stop_cleanly_on_sigterm(production):
    server = production(workers=2)
    first, second = server.urls
    seed = server.seed

    # Both answer, on the database the command migrated itself.
    for url in server.urls:
        assert get_json(url + "/healthz") == (200, {"status": "ok", "database": "ok"})
    engine = create_engine(server.database_url)
    with engine.connect() as connection:
        revision = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    engine.dispose()
    heads = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "db", "heads"],
        cwd=ROOT,
        env=production_environment(server.database_url),
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert revision in heads

    # The access log goes through the app's redaction: no invitation token, no query string.
    assert get_status(first + "/invite/secret-invite-token?name=Hanako") == 404

    # The learner connects as a browser does: long-polling first, then the websocket upgrade.
    learner = socketio.Client(reconnection=False)
    strokes: list[dict] = []
    learner.on("stroke", strokes.append, namespace=NAMESPACE)
    learner.connect(second, namespaces=[NAMESPACE], auth={"token": seed.learner_token})
    tutor = BoardClient(first, token=seed.tutor_token)
    try:
        deadline = time.monotonic() + 10
        while learner.transport() != "websocket" and time.monotonic() < deadline:
            time.sleep(0.05)
        assert learner.transport() == "websocket"
        assert learner.call("join", {"session_id": seed.session_id}, namespace=NAMESPACE)["ok"]
        assert tutor.call("join", {"session_id": seed.session_id})["ok"]

        # Sent through process A, it arrives at a client of process B.
        assert tutor.call("stroke", stroke_payload("across")) == {"ok": True, "seq": 1}
        deadline = time.monotonic() + 10
        while not strokes and time.monotonic() < deadline:
            time.sleep(0.05)
        assert [(s["id"], s["seq"], s["author_id"]) for s in strokes] == [
            ("across", 1, seed.tutor_id)
        ]

        # SIGTERM with clients still connected: every process stops within its grace period.
        started = time.monotonic()
        assert server.stop() == 0
        assert time.monotonic() - started < 20
    finally:
        tutor.close()
        if learner.connected:
            learner.disconnect()
    assert not any(port_open(url) for url in server.urls)
    assert server.worker_pids(server.first_port) == []
    assert server.worker_pids(server.first_port + 1) == []
    output = server.output()
    assert "Traceback" not in output, output
    assert '"GET /invite/[redacted]?[redacted] HTTP/1.1"' in output
    assert "secret-invite-token" not in output
    assert "Hanako" not in output
    assert output.rstrip().endswith("stopped")


def test_a_process_that_dies_is_started_again(production):
    server = production(workers=1, redis=False)
    [url] = server.urls
    for pid in server.worker_pids(server.first_port):
        import os
        import signal

        os.kill(pid, signal.SIGKILL)  # the whole gunicorn, master included
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if get_json(url + "/healthz", timeout=1)[0] == 200:
                break
        except OSError:
            time.sleep(0.2)
    else:
        pytest.fail("the process was not started again:\n" + server.output())
    assert "restarting it" in server.output()
    assert server.stop() == 0


# What keeps it from starting: checked before anything is migrated or served.


@pytest.mark.parametrize(
    ("config", "workers", "expected"),
    [
        ({"ENV": "development", "DATABASE_URL": "postgresql://db/m"}, 1, "TUTORING_ENV"),
        ({"ENV": "production", "DATABASE_URL": None}, 1, "TUTORING_DATABASE_URL"),
        ({"ENV": "production", "DATABASE_URL": "sqlite:///x"}, 1, "PostgreSQL"),
        ({"ENV": "production", "DATABASE_URL": "postgresql://db/m"}, 2, "TUTORING_REDIS_URL"),
        ({"ENV": "production", "DATABASE_URL": "postgresql://db/m"}, 0, "WORKERS"),
    ],
)
def test_settings_that_keep_it_from_starting(config, workers, expected):
    [problem] = settings_problems(config, workers)
    assert expected in problem


def test_complete_settings_pass():
    config = {"ENV": "production", "DATABASE_URL": "postgresql://db/m", "REDIS_URL": "redis://r"}
    assert settings_problems(config, 4) == []
    assert settings_problems({**config, "REDIS_URL": None}, 1) == []


def run_serve_prod(env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "serve-prod", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_several_processes_without_redis_refuse_to_start():
    env = production_environment("postgresql+psycopg://nobody@127.0.0.1:1/none")
    result = run_serve_prod(env, "--workers", "2", "--port", "1")
    assert result.returncode != 0
    assert "TUTORING_REDIS_URL" in result.stderr
    assert "applying database migrations" not in result.stdout


def test_no_secret_key_refuses_to_start():
    env = production_environment("postgresql+psycopg://nobody@127.0.0.1:1/none")
    del env["TUTORING_SECRET_KEY"]
    result = run_serve_prod(env, "--workers", "1", "--port", "1")
    assert result.returncode != 0
    assert "TUTORING_SECRET_KEY is not set" in result.stderr
    assert "applying database migrations" not in result.stdout


def test_no_data_keys_refuses_to_start():
    env = production_environment("postgresql+psycopg://nobody@127.0.0.1:1/none")
    del env["TUTORING_DATA_KEYS__k1"]
    result = run_serve_prod(env, "--workers", "1", "--port", "1")
    assert result.returncode != 0
    assert "TUTORING_DATA_KEYS is not set" in result.stderr
