"""Real Socket.IO clients (python-socketio) against the app served on a local port."""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from datetime import timedelta

import pytest
import socketio

from tutoring.database import utcnow

NAMESPACE = "/whiteboard"


class BoardClient:
    """A python-socketio client on /whiteboard that records what it receives."""

    def __init__(
        self, base_url: str, *, token: str | None = None, cookie: str | None = None
    ) -> None:
        self.sio = socketio.Client(reconnection=False)
        self.received: dict[str, list] = defaultdict(list)
        self.arrived = threading.Condition()

        @self.sio.on("*", namespace=NAMESPACE)
        def record(event, data=None):
            with self.arrived:
                self.received[event].append(data)
                self.arrived.notify_all()

        headers = {"Cookie": cookie} if cookie else {}
        self.sio.connect(
            base_url,
            namespaces=[NAMESPACE],
            auth={"token": token} if token else None,
            headers=headers,
            transports=["websocket"],
            wait_timeout=5,
        )

    def call(self, event: str, payload=None, timeout: float = 5):
        return self.sio.call(event, payload, namespace=NAMESPACE, timeout=timeout)

    def emit(self, event: str, payload=None) -> None:
        self.sio.emit(event, payload, namespace=NAMESPACE)

    def wait_for(self, event: str, count: int = 1, timeout: float = 5) -> list:
        deadline = time.monotonic() + timeout
        with self.arrived:
            while len(self.received[event]) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(
                        f"waited {timeout}s for {count} {event!r}, got {len(self.received[event])}"
                    )
                self.arrived.wait(left)
        return self.received[event]

    def close(self) -> None:
        if self.sio.connected:
            self.sio.disconnect()


@pytest.fixture(autouse=True)
def quick_websocket_close(monkeypatch):
    """Close client websockets without waiting 3 s for a close frame the test server never sends."""
    import websocket

    original = websocket.WebSocket.close

    def close(self, status=websocket.STATUS_NORMAL, reason=b"", timeout=0.1):
        return original(self, status, reason, timeout)

    monkeypatch.setattr(websocket.WebSocket, "close", close)


@pytest.fixture
def board_client(live_server):
    """Return a factory of connected clients; all are closed after the test."""
    clients = []

    def make(**credentials) -> BoardClient:
        client = BoardClient(live_server, **credentials)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def open_session(book):
    return book(utcnow().replace(microsecond=0) - timedelta(minutes=5))[0]


def stroke_payload(stroke_id: str = "s1", **overrides) -> dict:
    payload = {
        "id": stroke_id,
        "page": 0,
        "tool": "pen",
        "color": "#1a2b3c",
        "width": 3,
        "points": [[10, 20], [30, 40.5]],
    }
    payload.update(overrides)
    return payload
