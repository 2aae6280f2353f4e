"""Web Push (RFC 8030/8291/8292) to browsers and installed home-screen apps, through pywebpush."""

from __future__ import annotations

import base64
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from flask import Flask
from py_vapid import Vapid
from pywebpush import WebPushException, webpush
from sqlalchemy import select

from tutoring.extensions import db
from tutoring.notify.channels import Composed, PermanentFailure, TemporaryFailure
from tutoring.notify.models import Channel, NotificationPreference, PushSubscription
from tutoring.people.models import User

KEY_FILE = "vapid-private.pem"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


@dataclass(frozen=True)
class VapidKeys:
    private_pem: bytes
    public_key: str  # base64url uncompressed P-256 point: the browser's applicationServerKey


def generate_private_pem() -> bytes:
    """Return a new P-256 private key in PEM (PKCS#8)."""
    key = ec.generate_private_key(ec.SECP256R1())
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def keys_from_pem(pem: bytes) -> VapidKeys:
    """Return the key pair of a PEM private key."""
    key = serialization.load_pem_private_key(pem, password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp256r1":
        raise ValueError("the VAPID key must be a P-256 (prime256v1) EC key")
    public = key.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return VapidKeys(pem, b64url(public))


def _pem_from_setting(value: str) -> bytes:
    """Accept a PEM text or the base64url raw private number (as `vapid --gen` tools print)."""
    if "BEGIN" in value:
        return value.encode("ascii")
    raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    key = ec.derive_private_key(int.from_bytes(raw, "big"), ec.SECP256R1())
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def key_path(app: Flask) -> Path:
    return Path(app.config.get("VAPID_PRIVATE_KEY_PATH") or Path(app.instance_path) / KEY_FILE)


def write_key_file(path: Path) -> VapidKeys:
    """Write a new private key readable only by its owner; return the pair."""
    pem = generate_private_pem()
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(pem)
    return keys_from_pem(pem)


def vapid_keys(app: Flask) -> VapidKeys | None:
    """Return the VAPID keys: TUTORING_VAPID_PRIVATE_KEY, else the key file in instance/.

    In development a missing key file is created; elsewhere Web Push stays off until an
    operator runs `flask --app wsgi notify vapid-keys` (every server must share one key).
    """
    if "notify_vapid" in app.extensions:
        return app.extensions["notify_vapid"]
    keys = None
    setting = app.config.get("VAPID_PRIVATE_KEY")
    path = key_path(app)
    if setting:
        keys = keys_from_pem(_pem_from_setting(setting))
    elif path.exists():
        keys = keys_from_pem(path.read_bytes())
    elif app.config.get("ENV") == "development":
        keys = write_key_file(path)
    app.extensions["notify_vapid"] = keys
    return keys


def vapid_subject(app: Flask) -> str:
    """Return the contact the push services see (`mailto:` or `https:`)."""
    subject = app.config.get("VAPID_SUBJECT")
    if subject:
        return subject
    public = app.config.get("PUBLIC_URL") or ""
    if public.startswith("https://"):
        return public
    sender = app.config.get("SMTP_FROM") or ""
    address = sender.rpartition("<")[2].rstrip(">").strip()
    return f"mailto:{address}" if "@" in address else "mailto:webmaster@localhost"


def topic(key: str) -> str:
    """Return a Topic header (≤32 URL-safe characters): a later copy replaces an undelivered one."""
    return b64url(hashlib.sha256(key.encode()).digest())[:32]


@dataclass
class PushOutcome:
    """Which subscriptions took the message and which the push service says are gone."""

    delivered: list[int]
    expired: list[int]


class PushFailure(TemporaryFailure):
    """No device took the message now; some may have expired meanwhile."""

    def __init__(self, message: str, *, expired: list[int], **kwargs) -> None:
        super().__init__(message, **kwargs)
        self.expired = expired


class NoDevice(PermanentFailure):
    """Every subscription of the person has expired."""

    def __init__(self, message: str, *, expired: list[int], **kwargs) -> None:
        super().__init__(message, **kwargs)
        self.expired = expired


def push_payload(message: Composed) -> str:
    """Return what the service worker shows: title, body, the link to open, a tag."""
    return json.dumps(
        {
            "title": message.subject,
            "body": message.lines[0] if message.lines else "",
            "url": message.link or "/",
            "tag": message.tag,
            "lang": message.lang,
        },
        ensure_ascii=False,
    )


class WebPushChannel:
    name = Channel.WEBPUSH

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.http = requests.Session()

    def configured(self) -> bool:
        return vapid_keys(self.app) is not None

    def address(self, user: User, preference: NotificationPreference) -> list[dict] | None:
        if not (preference.push_enabled and self.configured()):
            return None
        subscriptions = db.session.scalars(
            select(PushSubscription)
            .where(PushSubscription.user_id == user.id)
            .order_by(PushSubscription.id)
        ).all()
        if not subscriptions:
            return None
        return [
            {"id": s.id, "endpoint": s.endpoint, "keys": {"p256dh": s.p256dh, "auth": s.auth}}
            for s in subscriptions
        ]

    def send(self, message: Composed, address: list[dict], *, key: str) -> PushOutcome:
        """Push to every device of the person; one device taking it is a delivery."""
        keys = vapid_keys(self.app)
        vapid = Vapid.from_pem(keys.private_pem)
        outcome = PushOutcome([], [])
        temporary: TemporaryFailure | None = None
        permanent: PermanentFailure | None = None
        for subscription in address:
            try:
                webpush(
                    {"endpoint": subscription["endpoint"], "keys": subscription["keys"]},
                    data=push_payload(message),
                    vapid_private_key=vapid,
                    vapid_claims={"sub": vapid_subject(self.app)},
                    ttl=max(60, int(message.ttl)),
                    headers={
                        "Urgency": "high" if message.urgent else "normal",
                        "Topic": topic(key),
                    },
                    timeout=float(self.app.config["WEBPUSH_TIMEOUT"]),
                    requests_session=self.http,
                )
            except WebPushException as error:
                status = error.response.status_code if error.response is not None else None
                if status in (404, 410):  # the subscription expired or was withdrawn
                    outcome.expired.append(subscription["id"])
                elif status == 403:  # made with another VAPID key: it can never work again
                    outcome.expired.append(subscription["id"])
                elif status is not None and (status == 429 or status >= 500):
                    temporary = TemporaryFailure(f"push service {status}", status_code=status)
                else:
                    permanent = PermanentFailure(f"push service {status}", status_code=status)
            except requests.RequestException as error:
                temporary = TemporaryFailure(f"push: {type(error).__name__}")
            else:
                outcome.delivered.append(subscription["id"])
        if outcome.delivered:
            return outcome
        if temporary is not None:
            raise PushFailure(
                str(temporary), expired=outcome.expired, status_code=temporary.status_code
            )
        if permanent is not None and len(outcome.expired) < len(address):
            raise NoDevice(
                str(permanent), expired=outcome.expired, status_code=permanent.status_code
            )
        raise NoDevice("every push subscription has expired", expired=outcome.expired)
