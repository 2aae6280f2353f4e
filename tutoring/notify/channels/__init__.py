"""The delivery channels behind one small interface.

A channel tells whether it can reach a person (`address`) and delivers a composed message
(`send`). It raises TemporaryFailure for what a later attempt may fix (network, 429, 5xx) and
PermanentFailure for what it will not; a channel that learns the person cannot be reached any
more (LINE blocked, push subscription expired) records that itself before raising.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from flask import Flask

from tutoring.notify.models import Channel, NotificationPreference
from tutoring.people.models import User


@dataclass(frozen=True)
class Composed:
    """A message ready for any channel, in the recipient's language."""

    subject: str
    lines: list[str]  # paragraphs of the body, plain text; the first is the push text
    greeting: str | None = None  # e-mail and LINE only: a lock screen shows no name
    link: str | None = None  # the one action: the room, the session page, or the app
    link_label: str | None = None
    quote: str | None = None  # a text for the recipient to copy (the suggested follow-up)
    quote_intro: str | None = None
    footer: str | None = None
    settings_url: str | None = None
    lang: str = "ja"
    # How long a push service may hold the message (seconds); a reminder is pointless later.
    ttl: int = 24 * 60 * 60
    urgent: bool = False
    tag: str = ""  # replaces an earlier notification of the same session on the device
    extra: dict[str, Any] = field(default_factory=dict)

    def text(self) -> str:
        """Return the plain-text body (e-mail text part, LINE message)."""
        parts = [self.greeting or "", *self.lines]
        if self.link:
            parts.append(f"{self.link_label}: {self.link}" if self.link_label else self.link)
        if self.quote:
            parts.append(self.quote_intro or "")
            parts.append(self.quote)
        if self.footer:
            parts.append("--\n" + self.footer)
        return "\n\n".join(p for p in parts if p)


class DeliveryError(Exception):
    """A delivery did not happen; the message is short and names no person."""

    def __init__(self, message: str, *, status_code: int | None = None) -> None:
        super().__init__(message)
        self.status_code = status_code


class TemporaryFailure(DeliveryError):
    """Try again later (network trouble, rate limit, server error)."""

    def __init__(
        self, message: str, *, status_code: int | None = None, retry_after: float | None = None
    ) -> None:
        super().__init__(message, status_code=status_code)
        self.retry_after = retry_after


class PermanentFailure(DeliveryError):
    """Trying again will not help (address refused, person blocked us, bad request)."""


class ChannelClient(Protocol):
    name: Channel

    def configured(self) -> bool:
        """Tell whether the deployment has what this channel needs (server, token, keys)."""

    def address(self, user: User, preference: NotificationPreference) -> Any | None:
        """Return where to reach the user, or None when this channel cannot or may not."""

    def send(self, message: Composed, address: Any, *, key: str) -> None:
        """Deliver the message; `key` is stable across retries of the same message."""


def clients(app: Flask) -> dict[Channel, ChannelClient]:
    """Return the app's channel clients, made once per app."""
    found = app.extensions.get("notify_channels")
    if found is None:
        from tutoring.notify.channels.email import EmailChannel
        from tutoring.notify.channels.line import LineChannel
        from tutoring.notify.channels.webpush import WebPushChannel

        found = {
            Channel.EMAIL: EmailChannel(app),
            Channel.LINE: LineChannel(app),
            Channel.WEBPUSH: WebPushChannel(app),
        }
        app.extensions["notify_channels"] = found
    return found
