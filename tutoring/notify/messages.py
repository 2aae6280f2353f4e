"""What each message says, in the recipient's language.

Messages carry only what the person needs: the learner's first name, the session's time and
place, and a link. Never notes, cancel reasons, tutors' names or anything else personal: a
phone's lock screen or a shared family tablet may show them.
"""

from __future__ import annotations

import re
from datetime import datetime
from urllib.parse import urlsplit

from babel.dates import format_skeleton
from flask import current_app, has_request_context, url_for
from flask_babel import force_locale
from flask_babel import gettext as _

from tutoring.i18n import program_zone
from tutoring.notify.channels import Composed
from tutoring.notify.models import MessageKind, NotificationPreference, OutboxMessage
from tutoring.people.models import Role, User
from tutoring.scheduling.models import Mode, TutoringSession

CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff]")


def first_name(user: User) -> str:
    """Return how a message addresses a learner: their chosen room name, else the given name.

    Japanese names are written family name first (田中 陽向 → 陽向); others given name first.
    """
    if user.room_display_name:
        return user.room_display_name
    parts = user.name.replace("\u3000", " ").split()
    if not parts:
        return user.name
    return parts[-1] if CJK.search(user.name) and len(parts) > 1 else parts[0]


def message_locale(user: User, preference: NotificationPreference | None) -> str:
    """Return the language of messages to a person: chosen for messages, else the account's."""
    languages = current_app.config["LANGUAGES"]
    for choice in (preference.locale if preference else None, user.locale):
        if choice in languages:
            return choice
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def external_url(endpoint: str, **values) -> str:
    """Return an absolute link; workers have no request, so TUTORING_PUBLIC_URL names the site."""
    base = current_app.config.get("PUBLIC_URL")
    if not base and has_request_context():
        return url_for(endpoint, _external=True, **values)
    parts = urlsplit(base or "http://127.0.0.1:5000")
    adapter = current_app.url_map.bind(
        parts.netloc, script_name=parts.path or "/", url_scheme=parts.scheme or "https"
    )
    return adapter.build(endpoint, values, force_external=True)


class When:
    """A session time shown in one language, in the program's zone."""

    def __init__(self, moment: datetime, lang: str) -> None:
        local = moment.astimezone(program_zone())
        self.date = format_skeleton("MMMEd", local, locale=lang)
        self.time = local.strftime("%H:%M")


def _place(session: TutoringSession) -> str:
    if session.mode is Mode.ONLINE:
        return _("Online: join from the link below.")
    return _("Place: %(venue)s", venue=session.venue.name if session.venue else "")


def _footer(settings_url: str) -> str:
    return _(
        "You can change which messages you get, and when, in Settings: %(url)s", url=settings_url
    )


def compose(
    message: OutboxMessage,
    recipient: User,
    preference: NotificationPreference | None,
    session: TutoringSession,
    *,
    learner_preference: NotificationPreference | None = None,
) -> Composed:
    """Return the message for its recipient, in their language."""
    lang = message_locale(recipient, preference)
    with force_locale(lang):
        return _compose(message, recipient, lang, session, learner_preference)


def _compose(
    message: OutboxMessage,
    recipient: User,
    lang: str,
    session: TutoringSession,
    learner_preference: NotificationPreference | None,
) -> Composed:
    kind = message.kind
    learner = session.learner
    name = first_name(learner)
    for_learner = recipient.role is Role.LEARNER
    settings_url = external_url("notify.settings")
    common = {
        "greeting": _("Hello %(name)s,", name=name) if for_learner else None,
        "lang": lang,
        "footer": _footer(settings_url),
        "settings_url": settings_url,
        "tag": f"session-{session.id}",
    }
    start = When(session.starts_at, lang)
    end = When(session.ends_at, lang)
    room = external_url("rooms.room", session_id=session.id)
    page = external_url("scheduling.detail", session_id=session.id)
    join = _("Join the room") if session.mode is Mode.ONLINE else None
    link = room if session.mode is Mode.ONLINE else page
    label = join or _("Session details")
    until_start = int((session.starts_at - message.due_at).total_seconds())
    count = int(message.payload.get("count") or 1)
    last_start = message.payload.get("last_starts_at")
    last = When(datetime.fromisoformat(last_start), lang) if last_start else start

    if kind is MessageKind.REMINDER_DAY:
        if for_learner:
            lines = [
                _(
                    "Your session is on %(date)s, %(start)s–%(end)s.",
                    date=start.date,
                    start=start.time,
                    end=end.time,
                ),
                _place(session),
                _(
                    "If you cannot come, that is all right: just let your coordinator know, and we will find another time together."
                ),
            ]
        else:
            lines = [
                _(
                    "Your session with %(name)s is on %(date)s, %(start)s–%(end)s.",
                    name=name,
                    date=start.date,
                    start=start.time,
                    end=end.time,
                ),
                _place(session),
            ]
        return Composed(
            subject=_(
                "Reminder: your session on %(date)s at %(time)s", date=start.date, time=start.time
            ),
            lines=lines,
            link=link,
            link_label=label,
            ttl=max(60, until_start),
            **common,
        )
    if kind is MessageKind.REMINDER_HOUR:
        opens = current_app.config["ROOM_OPENS_MINUTES_BEFORE"]
        return Composed(
            subject=_("Your session starts at %(time)s", time=start.time),
            lines=[
                _("Your session starts today at %(time)s.", time=start.time),
                _("The room opens %(n)d minutes before the start. See you soon!", n=opens)
                if session.mode is Mode.ONLINE
                else _place(session),
            ],
            link=link,
            link_label=label,
            ttl=max(60, until_start),
            urgent=True,
            **common,
        )
    if kind is MessageKind.RESCHEDULED:
        before = message.payload.get("old_starts_at")
        old = When(datetime.fromisoformat(before), lang) if before else start
        return Composed(
            subject=_(
                "Your session has moved to %(date)s at %(time)s", date=start.date, time=start.time
            ),
            lines=[
                _(
                    "The session on %(old_date)s at %(old_time)s has moved to %(date)s, %(start)s–%(end)s.",
                    old_date=old.date,
                    old_time=old.time,
                    date=start.date,
                    start=start.time,
                    end=end.time,
                ),
                _place(session),
                _("The later sessions of the series (%(n)d) move in the same way.", n=count - 1)
                if count > 1
                else "",
            ],
            link=page,
            link_label=_("Session details"),
            urgent=True,
            **common,
        )
    if kind is MessageKind.CANCELLED:
        return Composed(
            subject=_(
                "Your session on %(date)s at %(time)s is cancelled",
                date=start.date,
                time=start.time,
            ),
            lines=[
                _(
                    "The session on %(date)s at %(time)s has been cancelled.",
                    date=start.date,
                    time=start.time,
                )
                if count == 1
                else _(
                    "%(n)d sessions, from %(date)s at %(time)s to %(last_date)s, have been cancelled.",
                    n=count,
                    date=start.date,
                    time=start.time,
                    last_date=last.date,
                ),
                _("If you have a question, your coordinator is happy to help.")
                if for_learner
                else "",
            ],
            link=external_url("dashboard.index"),
            link_label=_("Open Manabi"),
            urgent=True,
            **common,
        )
    if kind is MessageKind.MISSED:
        learner_lang = message_locale(learner, learner_preference)
        with force_locale(learner_lang):
            suggestion = follow_up_suggestion(name)
        return Composed(
            subject=_(
                "%(name)s did not join the session on %(date)s at %(time)s",
                name=name,
                date=start.date,
                time=start.time,
            ),
            lines=[
                _(
                    "%(name)s did not join the session on %(date)s at %(time)s.",
                    name=name,
                    date=start.date,
                    time=start.time,
                ),
                _(
                    "A short, warm message soon after a missed session helps a young person come back. There is no need to ask why."
                ),
            ],
            quote_intro=_(
                "A message you could send, for example on LINE (change it into your own words):"
            ),
            quote=suggestion,
            link=page,
            link_label=_("Session details"),
            **common,
        )
    raise ValueError(f"unknown message kind {kind}")


def follow_up_suggestion(name: str) -> str:
    """Return a gentle message a tutor may send to a learner who missed a session."""
    return _(
        "%(name)s, we missed you today. Are you doing all right? There is no need to apologise: "
        "it happens to everyone. Whenever you feel ready, we will be glad to see you next time. "
        "If anything is on your mind, a short message is enough, even a single word.",
        name=name,
    )
