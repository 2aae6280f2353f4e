"""JSON API v1: notification preferences, push subscriptions, and the delivery log."""

from __future__ import annotations

from datetime import time

from flask import abort, current_app, jsonify, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from tutoring.api.views import bp, json_body
from tutoring.auth.permissions import managers_only
from tutoring.extensions import db
from tutoring.i18n import to_local
from tutoring.notify import service
from tutoring.notify.channels.webpush import vapid_keys
from tutoring.notify.models import NotificationPreference, OutboxMessage
from tutoring.notify.views import log_filters
from tutoring.people.models import Role, User
from tutoring.validation import ValidationError, integer


def preference_json(preference: NotificationPreference, user: User) -> dict:
    """Return a person's notification settings."""
    keys = vapid_keys(current_app._get_current_object())
    body = {
        "user_id": user.id,
        "channels": {
            "email": preference.email_enabled,
            "line": preference.line_enabled,
            "webpush": preference.push_enabled,
        },
        "reminders": {
            "day_before": preference.remind_day_before,
            "hour_before": preference.remind_hour_before,
        },
        "quiet_hours": (
            {
                "start": preference.quiet_start.strftime("%H:%M"),
                "end": preference.quiet_end.strftime("%H:%M"),
            }
            if preference.quiet_start is not None and preference.quiet_end is not None
            else None
        ),
        "locale": preference.locale,
        "line_linked": bool(preference.line_user_id),
        "line_disabled_at": preference.line_disabled_at.isoformat()
        if preference.line_disabled_at
        else None,
        "push_devices": service.subscription_count(user),
        "push_public_key": keys.public_key if keys else None,
    }
    if current_user.role in (Role.COORDINATOR, Role.ADMIN):
        body["line_user_id"] = preference.line_user_id
    return body


def _boolean(data: dict, section: str, name: str) -> bool | None:
    value = data.get(name)
    if value is None:
        return None
    if not isinstance(value, bool):
        raise ValidationError(f"{section}.{name}", _l("Must be true or false."))
    return value


def _clock(value, field: str) -> time:
    if not isinstance(value, str):
        raise ValidationError(field, _l("Give a time as HH:MM."))
    try:
        return time.fromisoformat(value)
    except ValueError:
        raise ValidationError(field, _l("Give a time as HH:MM.")) from None


def preference_input(data: dict) -> service.PreferenceInput:
    """Read a partial update: {channels?, reminders?, quiet_hours?, locale?, line_user_id?}."""
    changes = service.PreferenceInput()
    for section, names in (
        ("channels", ("email", "line", "webpush")),
        ("reminders", ("day_before", "hour_before")),
    ):
        if section not in data:
            continue
        values = data[section]
        if not isinstance(values, dict):
            raise ValidationError(section, _l("Must be an object."))
        for name in names:
            value = _boolean(values, section, name)
            target = {
                "email": "email_enabled",
                "line": "line_enabled",
                "webpush": "push_enabled",
                "day_before": "remind_day_before",
                "hour_before": "remind_hour_before",
            }[name]
            setattr(changes, target, value)
    if "quiet_hours" in data:
        quiet = data["quiet_hours"]
        if quiet is None:
            changes.quiet_start = changes.quiet_end = None
        elif isinstance(quiet, dict):
            changes.quiet_start = _clock(quiet.get("start"), "quiet_hours.start")
            changes.quiet_end = _clock(quiet.get("end"), "quiet_hours.end")
        else:
            raise ValidationError("quiet_hours", _l("Must be an object or null."))
    if "locale" in data:
        locale = data["locale"]
        if locale is not None and not isinstance(locale, str):
            raise ValidationError("locale", _l("Must be text."))
        changes.locale = locale or None
    if "line_user_id" in data:
        value = data["line_user_id"]
        if value is not None and not isinstance(value, str):
            raise ValidationError("line_user_id", _l("Must be text."))
        changes.line_user_id = value
    return changes


def _update(user: User):
    changes = preference_input(json_body())
    preference = service.update_preferences(
        current_user, user, changes, languages=tuple(current_app.config["LANGUAGES"])
    )
    db.session.commit()
    return jsonify(preference_json(preference, user))


@bp.get("/me/notifications")
def my_notifications():
    """Return the caller's notification settings and the Web Push public key."""
    return jsonify(preference_json(service.preference_for(current_user), current_user))


@bp.put("/me/notifications")
def update_my_notifications():
    """Change the caller's notification settings (a partial object)."""
    return _update(current_user)


def _person(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None or not service.can_manage(current_user, user):
        abort(404)
    return user


@bp.get("/users/<int:user_id>/notifications")
@managers_only
def user_notifications(user_id: int):
    """Return someone's notification settings (coordinators)."""
    user = _person(user_id)
    return jsonify(preference_json(service.preference_for(user), user))


@bp.put("/users/<int:user_id>/notifications")
@managers_only
def update_user_notifications(user_id: int):
    """Change someone's notification settings, LINE user id included (coordinators)."""
    return _update(_person(user_id))


@bp.post("/me/push-subscriptions")
def add_push_subscription():
    """Store this browser's push subscription (the PushSubscription's JSON) for the caller."""
    subscription = service.save_subscription(current_user, json_body())
    db.session.commit()
    return jsonify({"id": subscription.id, "endpoint": subscription.endpoint}), 201


@bp.delete("/me/push-subscriptions")
def remove_push_subscription():
    """Forget one of the caller's devices: {endpoint}."""
    data = json_body()
    endpoint = data.get("endpoint")
    if not isinstance(endpoint, str) or not endpoint:
        raise ValidationError("endpoint", _l("This field is required."))
    if not service.delete_subscription(current_user, endpoint):
        abort(404)
    db.session.commit()
    return "", 204


def message_json(message: OutboxMessage) -> dict:
    """Return one delivery log entry: what, to whom, through what, and how it went."""
    return {
        "id": message.id,
        "kind": message.kind.value,
        "channel": message.channel.value,
        "recipient_id": message.recipient_id,
        "recipient_name": message.recipient.name,
        "session_id": message.session_id,
        "status": message.status.value,
        "due_at": to_local(message.due_at).isoformat(),
        "next_attempt_at": to_local(message.next_attempt_at).isoformat(),
        "sent_at": to_local(message.sent_at).isoformat() if message.sent_at else None,
        "attempts": message.attempts,
        "error": message.error,
    }


@bp.get("/notifications")
@managers_only
def delivery_log():
    """List queued and delivered messages; filters `status`, `channel`, `kind`, `recipient_id`, `session_id`, `from`, `to`, `limit`, `offset`."""
    raw = request.args.get("limit")
    data = {} if raw is None else {"limit": int(raw) if raw.isdigit() and len(raw) < 7 else raw}
    limit = integer(data, "limit", minimum=1, maximum=500, default=100)
    offset = request.args.get("offset", "0")
    if not offset.isdigit() or len(offset) > 9:
        raise ValidationError("offset", _l("Must be a whole number."))
    messages = service.delivery_log(log_filters(), limit=limit, offset=int(offset))
    return jsonify({"notifications": [message_json(m) for m in messages]})
