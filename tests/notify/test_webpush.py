"""Web Push through pywebpush against a local stand-in push service, checked like a browser would."""

from __future__ import annotations

import base64
import json
import os
from datetime import timedelta

import http_ece
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from joserfc import jwt
from joserfc.jwk import ECKey

from tests.conftest import csrf_token
from tests.notify.conftest import messages, run, set_preferences, tokyo
from tutoring.extensions import db
from tutoring.notify.channels.webpush import b64url, generate_private_pem, keys_from_pem
from tutoring.notify.models import PushSubscription

START = tokyo(2026, 12, 2, 16, 0)
VAPID_PEM = generate_private_pem()


def unb64(value: str) -> bytes:
    return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))


class Browser:
    """A browser's side of a push subscription: its key pair and auth secret."""

    def __init__(self, endpoint: str) -> None:
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.auth = os.urandom(16)
        self.endpoint = endpoint

    def subscription(self) -> dict:
        public = self.key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        return {
            "endpoint": self.endpoint,
            "keys": {"p256dh": b64url(public), "auth": b64url(self.auth)},
        }

    def read(self, body: bytes) -> dict:
        clear = http_ece.decrypt(
            body, private_key=self.key, auth_secret=self.auth, version="aes128gcm"
        )
        return json.loads(clear)


@pytest.fixture
def app_config(line_config, push_service):
    return {
        "PUBLIC_URL": "https://manabi.example.org",
        "VAPID_PRIVATE_KEY": VAPID_PEM.decode(),
        "VAPID_SUBJECT": "mailto:coordinator@example.org",
        "WEBPUSH_ALLOWED_HOSTS": ("127.0.0.1",),
        "WEBPUSH_ALLOW_HTTP": True,
    }


def subscribe(client, login_as, account, browser: Browser):
    """Subscribe as the browser's page does: POST the subscription with the CSRF header."""
    login_as(account)
    token = csrf_token(client, "/settings/notifications")
    response = client.post(
        "/api/v1/me/push-subscriptions", json=browser.subscription(), headers={"X-CSRFToken": token}
    )
    assert response.status_code == 201, response.get_json()


def verify_vapid(header: str, audience: str) -> dict:
    """Check the VAPID Authorization header as a push service does; return the JWT claims."""
    scheme, _, rest = header.partition(" ")
    assert scheme == "vapid"
    parts = dict(part.strip().split("=", 1) for part in rest.split(","))
    point = unb64(parts["k"])
    assert b64url(point) == keys_from_pem(VAPID_PEM).public_key
    public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point)
    key = ECKey.import_key(
        public.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    token = jwt.decode(parts["t"], key, algorithms=["ES256"])
    assert token.claims["aud"] == audience
    return token.claims


def test_a_reminder_reaches_the_phone_encrypted_and_signed(
    app, client, login_as, program, book, push_service
):
    phone = Browser(f"{push_service.url}/push/phone")
    subscribe(client, login_as, program.learner, phone)
    [session_id] = book(START)
    assert run(app, START - timedelta(hours=1)).outcomes == {"sent": 1}
    [request] = push_service.requests
    assert request.path == "/push/phone"
    assert request.headers["content-encoding"] == "aes128gcm"
    assert request.headers["urgency"] == "high"
    assert 0 < int(request.headers["ttl"]) <= 3600  # no use after the session starts
    assert len(request.headers["topic"]) <= 32
    claims = verify_vapid(request.headers["authorization"], push_service.url)
    assert claims["sub"] == "mailto:coordinator@example.org"
    shown = phone.read(request.body)
    assert shown["url"] == f"https://manabi.example.org/sessions/{session_id}/room"
    assert "16:00" in shown["title"]
    assert "陽向" not in json.dumps(shown, ensure_ascii=False)  # a lock screen shows no name
    assert shown["tag"] == f"session-{session_id}"


def test_an_expired_subscription_is_deleted_and_the_other_device_still_gets_it(
    app, client, login_as, program, book, push_service
):
    old = Browser(f"{push_service.url}/push/old-phone")
    new = Browser(f"{push_service.url}/push/new-phone")
    subscribe(client, login_as, program.learner, old)
    subscribe(client, login_as, program.learner, new)
    push_service.by_path["/push/old-phone"] = 410
    book(START)
    assert run(app, START - timedelta(hours=24)).outcomes == {"sent": 1}
    with app.app_context():
        endpoints = [s.endpoint for s in db.session.query(PushSubscription)]
    assert endpoints == [new.endpoint]


def test_when_every_device_is_gone_the_message_fails_and_nothing_is_retried(
    app, client, login_as, program, book, push_service
):
    gone = Browser(f"{push_service.url}/push/gone")
    subscribe(client, login_as, program.learner, gone)
    push_service.by_path["/push/gone"] = 404
    book(START)
    assert run(app, START - timedelta(hours=24)).outcomes == {"failed": 1}
    assert messages(app)[0]["error"] == "every push subscription has expired"
    with app.app_context():
        assert db.session.query(PushSubscription).count() == 0
    assert run(app, START - timedelta(hours=1)).outcomes == {}  # no device: nothing queued


def test_a_busy_push_service_is_retried(app, client, login_as, program, book, push_service):
    phone = Browser(f"{push_service.url}/push/phone")
    subscribe(client, login_as, program.learner, phone)
    push_service.respond(503)
    book(START)
    assert run(app, START - timedelta(hours=24)).outcomes == {"pending": 1}
    assert run(app, START - timedelta(hours=24) + timedelta(minutes=1)).outcomes == {"sent": 1}
    with app.app_context():
        assert db.session.query(PushSubscription).one().last_success_at is not None


def test_push_turned_off_sends_nothing(app, client, login_as, program, book, push_service):
    subscribe(client, login_as, program.learner, Browser(f"{push_service.url}/push/phone"))
    set_preferences(app, program.learner, push_enabled=False)
    book(START)
    assert run(app, START - timedelta(hours=1)).outcomes == {}
    assert push_service.requests == []
