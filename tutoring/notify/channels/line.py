"""LINE Messaging API: a push message to a user who linked their LINE account."""

from __future__ import annotations

import uuid

import requests
from flask import Flask

from tutoring.notify.channels import Composed, PermanentFailure, TemporaryFailure
from tutoring.notify.models import Channel, NotificationPreference
from tutoring.people.models import User

PUSH_PATH = "/v2/bot/message/push"
MAX_TEXT = 5000  # LINE's limit for one text message
RETRY_KEY_NAMESPACE = uuid.UUID("6f1d2a5e-3c55-4f0e-9a57-3c2b8e0f4a11")


class LineBlocked(PermanentFailure):
    """LINE refused the push for this person (blocked the account, or never added it)."""


def retry_key(key: str) -> str:
    """Return the X-Line-Retry-Key for a message: the same UUID on every attempt.

    LINE accepts a retry key once within 24 hours, so a retry after a lost answer is not
    delivered twice.
    """
    return str(uuid.uuid5(RETRY_KEY_NAMESPACE, key))


def push_request(message: Composed, to: str) -> dict:
    """Return the JSON body of a push: one text message with the link in it."""
    return {"to": to, "messages": [{"type": "text", "text": message.text()[:MAX_TEXT]}]}


class LineChannel:
    name = Channel.LINE

    def __init__(self, app: Flask) -> None:
        self.config = app.config
        self.http = requests.Session()

    def configured(self) -> bool:
        return bool(self.config.get("LINE_CHANNEL_ACCESS_TOKEN"))

    def address(self, user: User, preference: NotificationPreference) -> str | None:
        if not (preference.line_enabled and preference.line_user_id and self.configured()):
            return None
        return preference.line_user_id

    def send(self, message: Composed, address: str, *, key: str) -> None:
        url = self.config["LINE_API_BASE_URL"].rstrip("/") + PUSH_PATH
        headers = {
            "Authorization": f"Bearer {self.config['LINE_CHANNEL_ACCESS_TOKEN']}",
            "X-Line-Retry-Key": retry_key(key),
        }
        try:
            response = self.http.post(
                url,
                json=push_request(message, address),
                headers=headers,
                timeout=float(self.config["LINE_TIMEOUT"]),
            )
        except requests.RequestException as error:
            raise TemporaryFailure(f"LINE: {type(error).__name__}") from None
        status = response.status_code
        # 409: this retry key was accepted before, so the message went out already.
        if status == 200 or status == 409:
            return
        if status in (400, 403):
            raise LineBlocked(f"LINE refused the push ({status})", status_code=status)
        if status == 429 or status >= 500:
            raise TemporaryFailure(
                f"LINE {status}", status_code=status, retry_after=_retry_after(response)
            )
        # 401 (a wrong or expired channel token) and the like: the operator must act; retry.
        raise TemporaryFailure(f"LINE {status}", status_code=status)


def _retry_after(response: requests.Response) -> float | None:
    value = response.headers.get("Retry-After", "")
    return float(value) if value.isdigit() else None
