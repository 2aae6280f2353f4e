"""Rules for preferences and push subscriptions, and the delivery log's query."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time
from urllib.parse import urlsplit

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, select
from sqlalchemy.orm import joinedload

from tutoring.auth.signals import identity_linked
from tutoring.database import utcnow
from tutoring.extensions import db
from tutoring.notify.models import (
    DEFAULT_QUIET_END,
    DEFAULT_QUIET_START,
    Channel,
    MessageKind,
    MessageStatus,
    NotificationPreference,
    OutboxMessage,
    PushSubscription,
)
from tutoring.people.models import Role, User
from tutoring.validation import ValidationError

LINE_USER_ID = re.compile(r"^U[0-9a-f]{32}$")


def default_preference(user_id: int) -> NotificationPreference:
    """Return the preferences of someone who never chose (not added to the database)."""
    return NotificationPreference(
        user_id=user_id,
        email_enabled=True,
        line_enabled=True,
        push_enabled=True,
        remind_day_before=True,
        remind_hour_before=True,
        quiet_start=DEFAULT_QUIET_START,
        quiet_end=DEFAULT_QUIET_END,
        locale=None,
        line_user_id=None,
        line_disabled_at=None,
    )


def preference_for(user: User) -> NotificationPreference:
    """Return the user's preferences: the stored row, else the defaults (not stored)."""
    return db.session.get(NotificationPreference, user.id) or default_preference(user.id)


def preferences_for(user_ids: set[int]) -> dict[int, NotificationPreference]:
    """Return the preferences of several users at once, defaults for those without a row."""
    found = {
        p.user_id: p
        for p in db.session.scalars(
            select(NotificationPreference).where(NotificationPreference.user_id.in_(user_ids))
        )
    }
    return {uid: found.get(uid) or default_preference(uid) for uid in user_ids}


def can_manage(actor: User, user: User) -> bool:
    """Tell whether the actor may change someone's preferences: themselves, or a coordinator."""
    if actor.id == user.id:
        return True
    return actor.role in (Role.COORDINATOR, Role.ADMIN) and user.role.rank <= actor.role.rank


@dataclass
class PreferenceInput:
    """What a form or the API sends; None leaves a setting as it is."""

    email_enabled: bool | None = None
    line_enabled: bool | None = None
    push_enabled: bool | None = None
    remind_day_before: bool | None = None
    remind_hour_before: bool | None = None
    quiet_start: time | None | str = "unchanged"
    quiet_end: time | None | str = "unchanged"
    locale: str | None = "unchanged"
    line_user_id: str | None = "unchanged"


def update_preferences(
    actor: User, user: User, changes: PreferenceInput, *, languages: tuple[str, ...]
) -> NotificationPreference:
    """Change a user's notification preferences; only coordinators set the LINE user id."""
    if not can_manage(actor, user):
        raise PermissionError
    preference = db.session.get(NotificationPreference, user.id)
    if preference is None:
        preference = default_preference(user.id)
        db.session.add(preference)
    for name in (
        "email_enabled",
        "line_enabled",
        "push_enabled",
        "remind_day_before",
        "remind_hour_before",
    ):
        value = getattr(changes, name)
        if value is not None:
            setattr(preference, name, bool(value))
    if changes.line_enabled:
        preference.line_disabled_at = None  # turning LINE on again after it was switched off
    if changes.quiet_start != "unchanged" or changes.quiet_end != "unchanged":
        start = (
            preference.quiet_start if changes.quiet_start == "unchanged" else changes.quiet_start
        )
        end = preference.quiet_end if changes.quiet_end == "unchanged" else changes.quiet_end
        if (start is None) != (end is None):
            field = "quiet_end" if end is None else "quiet_start"
            raise ValidationError(
                field, _l("Give both the start and the end of the quiet hours, or neither.")
            )
        preference.quiet_start, preference.quiet_end = start, end
    if changes.locale != "unchanged":
        if changes.locale is not None and changes.locale not in languages:
            raise ValidationError(
                "locale", _l("Must be one of: %(allowed)s.", allowed=", ".join(languages))
            )
        preference.locale = changes.locale
    if changes.line_user_id != "unchanged":
        if actor.role not in (Role.COORDINATOR, Role.ADMIN):
            raise ValidationError("line_user_id", _l("Only a coordinator can link a LINE account."))
        value = (changes.line_user_id or "").strip() or None
        if value is not None and not LINE_USER_ID.match(value):
            raise ValidationError(
                "line_user_id",
                _l("A LINE user id is U followed by 32 characters 0–9 and a–f."),
            )
        if value != preference.line_user_id:
            preference.line_disabled_at = None
        preference.line_user_id = value
    preference.updated_by_id = actor.id
    preference.updated_at = utcnow()
    db.session.flush()
    return preference


def disable_line(user_id: int, now: datetime) -> None:
    """Switch LINE off for a person LINE will not deliver to (blocked, or not a friend)."""
    preference = db.session.get(NotificationPreference, user_id)
    if preference is None:
        preference = default_preference(user_id)
        db.session.add(preference)
    preference.line_enabled = False
    preference.line_disabled_at = now
    db.session.flush()


# Push subscriptions


def endpoint_allowed(endpoint: str) -> bool:
    """Tell whether an endpoint is on a known push service (the worker posts there: no SSRF)."""
    parts = urlsplit(endpoint)
    host = (parts.hostname or "").lower()
    allowed = current_app.config["WEBPUSH_ALLOWED_HOSTS"]
    if not any(host == h or host.endswith("." + h) for h in allowed):
        return False
    return parts.scheme == "https" or (
        parts.scheme == "http" and bool(current_app.config.get("WEBPUSH_ALLOW_HTTP"))
    )


def parse_subscription(data: dict) -> tuple[str, str, str]:
    """Return (endpoint, p256dh, auth) of a browser's PushSubscription JSON, or raise."""
    endpoint = data.get("endpoint")
    if not isinstance(endpoint, str) or not endpoint_allowed(endpoint):
        raise ValidationError("endpoint", _l("Must be the address of a browser's push service."))
    if len(endpoint) > 2048:
        raise ValidationError("endpoint", _l("At most %(n)d characters.", n=2048))
    keys = data.get("keys")
    if not isinstance(keys, dict):
        raise ValidationError("keys", _l("This field is required."))
    found = []
    for name, limit in (("p256dh", 200), ("auth", 100)):
        value = keys.get(name)
        if not isinstance(value, str) or not re.fullmatch(rf"[A-Za-z0-9_\-=]{{8,{limit}}}", value):
            raise ValidationError(f"keys.{name}", _l("Must be a base64url key."))
        found.append(value)
    return endpoint, found[0], found[1]


def save_subscription(user: User, data: dict) -> PushSubscription:
    """Store a device's push subscription for the user; a device moves to whoever signed in last."""
    endpoint, p256dh, auth = parse_subscription(data)
    subscription = db.session.scalar(
        select(PushSubscription).where(PushSubscription.endpoint == endpoint)
    )
    if subscription is None:
        subscription = PushSubscription(endpoint=endpoint, user_id=user.id)
        db.session.add(subscription)
    subscription.user_id = user.id
    subscription.p256dh, subscription.auth = p256dh, auth
    db.session.flush()
    return subscription


def delete_subscription(user: User, endpoint: str) -> bool:
    """Forget one of the user's devices; return whether it was there."""
    subscription = db.session.scalar(
        select(PushSubscription).where(
            PushSubscription.endpoint == endpoint, PushSubscription.user_id == user.id
        )
    )
    if subscription is None:
        return False
    db.session.delete(subscription)
    db.session.flush()
    return True


def delete_all_subscriptions(user: User) -> int:
    """Forget every device of the user."""
    subscriptions = db.session.scalars(
        select(PushSubscription).where(PushSubscription.user_id == user.id)
    ).all()
    for subscription in subscriptions:
        db.session.delete(subscription)
    db.session.flush()
    return len(subscriptions)


def subscription_count(user: User) -> int:
    return len(
        db.session.scalars(
            select(PushSubscription.id).where(PushSubscription.user_id == user.id)
        ).all()
    )


# The delivery log


@dataclass
class LogFilter:
    status: MessageStatus | None = None
    channel: Channel | None = None
    kind: MessageKind | None = None
    recipient_id: int | None = None
    session_id: int | None = None
    start: datetime | None = None
    end: datetime | None = None


def delivery_log_query(filters: LogFilter) -> Select:
    """Return the query of queued and delivered messages, newest first."""
    query = select(OutboxMessage).options(joinedload(OutboxMessage.recipient))
    if filters.status is not None:
        query = query.where(OutboxMessage.status == filters.status)
    if filters.channel is not None:
        query = query.where(OutboxMessage.channel == filters.channel)
    if filters.kind is not None:
        query = query.where(OutboxMessage.kind == filters.kind)
    if filters.recipient_id is not None:
        query = query.where(OutboxMessage.recipient_id == filters.recipient_id)
    if filters.session_id is not None:
        query = query.where(OutboxMessage.session_id == filters.session_id)
    if filters.start is not None:
        query = query.where(OutboxMessage.due_at >= filters.start)
    if filters.end is not None:
        query = query.where(OutboxMessage.due_at < filters.end)
    return query.order_by(OutboxMessage.due_at.desc(), OutboxMessage.id.desc())


def delivery_log(filters: LogFilter, *, limit: int = 100, offset: int = 0) -> list[OutboxMessage]:
    """Return one page of the delivery log."""
    return list(db.session.scalars(delivery_log_query(filters).limit(limit).offset(offset)))


@identity_linked.connect
def link_line_account(user: User, *, preset: str | None, subject: str, **_: object) -> None:
    """Reach a person on LINE once they link LINE Login: its subject is their LINE user id.

    (True when the LINE Login channel and the Messaging API channel share one provider in
    the LINE Developers Console, as docs/reminders.md asks.)
    """
    if preset != "line" or not LINE_USER_ID.match(subject):
        return
    preference = db.session.get(NotificationPreference, user.id)
    if preference is None:
        preference = default_preference(user.id)
        db.session.add(preference)
    preference.line_user_id = subject
    preference.line_disabled_at = None
    db.session.flush()
