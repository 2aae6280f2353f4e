"""Notification fixtures: local stand-ins for an SMTP server, the LINE API and a push service."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import select

from tests.conftest import TOKYO, Program, tokyo  # noqa: F401
from tutoring.extensions import db
from tutoring.notify import service
from tutoring.notify.models import OutboxMessage
from tutoring.people.models import User

LINE_TOKEN = "test-line-channel-token"
# A LINE user id has this shape: U and 32 hex digits.
LINE_ID = "U" + "0123456789abcdef" * 2
OTHER_LINE_ID = "U" + "fedcba9876543210" * 2


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self):
        return json.loads(self.body)


@dataclass
class StandIn:
    """A small HTTP server that records requests and answers from a script (default 200 {})."""

    url: str = ""
    requests: list[Recorded] = field(default_factory=list)
    script: list[tuple[int, dict, bytes]] = field(default_factory=list)
    by_path: dict[str, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(self, path: str) -> tuple[int, dict, bytes]:
        with self.lock:
            if path in self.by_path:
                return self.by_path[path], {}, b"{}"
            if self.script:
                return self.script.pop(0)
        return 200, {}, b"{}"

    def respond(self, status: int, headers: dict | None = None, body: bytes = b"{}") -> None:
        self.script.append((status, headers or {}, body))


def _serve(standin: StandIn):
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            with standin.lock:
                standin.requests.append(
                    Recorded(
                        "POST", self.path, {k.lower(): v for k, v in self.headers.items()}, body
                    )
                )
            status, headers, answer = standin.answer(self.path)
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    standin.url = f"http://127.0.0.1:{server.server_port}"
    return server, thread


@pytest.fixture
def line_api():
    """Return a stand-in for the LINE Messaging API on a free port."""
    standin = StandIn()
    server, thread = _serve(standin)
    yield standin
    server.shutdown()
    thread.join(5)
    server.server_close()


@pytest.fixture
def push_service():
    """Return a stand-in push service (like FCM or Mozilla's autopush) on a free port."""
    standin = StandIn()
    server, thread = _serve(standin)
    yield standin
    server.shutdown()
    thread.join(5)
    server.server_close()


@pytest.fixture
def line_config(line_api) -> dict:
    return {"LINE_CHANNEL_ACCESS_TOKEN": LINE_TOKEN, "LINE_API_BASE_URL": line_api.url}


@pytest.fixture
def app_config(line_config) -> dict:
    """Notification tests reach LINE's stand-in; e-mail and push are added where tested."""
    return {**line_config, "PUBLIC_URL": "https://manabi.example.org"}


def set_preferences(app, account, actor=None, **changes) -> None:
    """Store someone's preferences through the service, as a coordinator would."""
    with app.app_context():
        user = db.session.get(User, account.id)
        by = db.session.get(User, (actor or account).id)
        service.update_preferences(
            by, user, service.PreferenceInput(**changes), languages=("ja", "en")
        )
        db.session.commit()


@pytest.fixture
def link_line(app, program):
    """Return link(account, line_id=LINE_ID): a coordinator links someone's LINE account."""

    def link(account, line_id: str = LINE_ID, **changes) -> None:
        set_preferences(app, account, actor=program.coordinator, line_user_id=line_id, **changes)

    return link


def messages(app, **where) -> list[dict]:
    """Return the outbox as plain dicts, oldest first."""
    with app.app_context():
        query = select(OutboxMessage).order_by(OutboxMessage.id)
        for name, value in where.items():
            query = query.where(getattr(OutboxMessage, name) == value)
        return [
            {
                "id": m.id,
                "key": m.dedupe_key,
                "kind": m.kind.value,
                "channel": m.channel.value,
                "recipient_id": m.recipient_id,
                "session_id": m.session_id,
                "status": m.status.value,
                "due_at": m.due_at,
                "next_attempt_at": m.next_attempt_at,
                "attempts": m.attempts,
                "error": m.error,
                "payload": m.payload,
                "sent_at": m.sent_at,
            }
            for m in db.session.scalars(query)
        ]


def run(app, now, **options):
    """Run one scheduler tick at a fixed time; return its summary."""
    from tutoring.notify.worker import run_once

    with app.app_context():
        return run_once(now, **options)
