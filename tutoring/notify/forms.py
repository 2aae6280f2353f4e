"""Forms of the notification settings and the delivery log's filters."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, StringField, TimeField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, Optional

from tutoring.notify.models import Channel, MessageKind, MessageStatus

CHANNEL_LABELS = {
    Channel.EMAIL: _l("E-mail"),
    Channel.LINE: _l("LINE"),
    Channel.WEBPUSH: _l("Phone notification"),
}

KIND_LABELS = {
    MessageKind.REMINDER_DAY: _l("Reminder the day before"),
    MessageKind.REMINDER_HOUR: _l("Reminder one hour before"),
    MessageKind.RESCHEDULED: _l("Session moved"),
    MessageKind.CANCELLED: _l("Session cancelled"),
    MessageKind.MISSED: _l("Missed session follow-up"),
}

STATUS_LABELS = {
    MessageStatus.PENDING: _l("Waiting"),
    MessageStatus.SENDING: _l("Sending"),
    MessageStatus.SENT: _l("Sent"),
    MessageStatus.FAILED: _l("Failed"),
    MessageStatus.SKIPPED: _l("Not sent"),
}

# Why a message was not sent, as the worker records it.
REASON_LABELS = {
    "quiet_hours": _l("Quiet hours left no time before the session"),
    "session_moved": _l("The session moved"),
    "session_cancelled": _l("The session was cancelled"),
    "session_over": _l("The session is over"),
    "session_gone": _l("The session was deleted"),
    "too_late": _l("Too late: the session had started"),
    "turned_off": _l("The person turned this reminder off"),
    "channel_off": _l("The person turned this channel off, or cannot be reached through it"),
    "recipient_inactive": _l("The account is disabled"),
    "attended": _l("The learner attended after all"),
    "worker_lost": _l("The sending worker stopped, too often"),
}


class PreferencesForm(FlaskForm):
    email_enabled = BooleanField(_l("E-mail"))
    line_enabled = BooleanField(_l("LINE"))
    push_enabled = BooleanField(_l("Notifications on a phone or browser"))
    remind_day_before = BooleanField(_l("The day before a session"))
    remind_hour_before = BooleanField(_l("One hour before, with the link to the room"))
    quiet_start = TimeField(_l("Quiet from"), validators=[Optional()])
    quiet_end = TimeField(_l("Quiet until"), validators=[Optional()])
    locale = SelectField(
        _l("Language of messages"),
        choices=[
            SelectChoice("", _l("Same as my account")),
            SelectChoice("ja", "日本語"),
            SelectChoice("en", "English"),
        ],
    )


class CoordinatorPreferencesForm(PreferencesForm):
    line_user_id = StringField(
        _l("LINE user id"),
        validators=[Optional(), Length(max=64)],
        description=_l(
            "From the LINE Official Account's manager, after the person added it as a friend. Leave empty to unlink."
        ),
    )
