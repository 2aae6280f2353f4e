"""The iCalendar feed of a user's sessions, for calendar apps (RFC 5545, icalendar library)."""

from __future__ import annotations

from flask import url_for
from flask_babel import gettext as _
from icalendar import Calendar, Event

from tutoring.database import utcnow
from tutoring.people.models import Role, User
from tutoring.scheduling.models import Kind, Mode, Status, TutoringSession


def _summary(user: User, session: TutoringSession) -> str:
    kind = _("Study session") if session.kind is Kind.STUDY else _("Learning consultation")
    # A learner's calendar names the tutor; staff calendars name the learner.
    other = session.tutor if user.role is Role.LEARNER else session.learner
    return f"{kind}: {other.name}"


def _location(session: TutoringSession) -> str:
    if session.mode is Mode.ONLINE:
        return _("Online") + " — " + url_for("rooms.room", session_id=session.id, _external=True)
    venue = session.venue
    return (
        f"{venue.name}, {venue.address}"
        if venue and venue.address
        else (venue.name if venue else "")
    )


def calendar(user: User, sessions: list[TutoringSession], host: str) -> bytes:
    """Return the VCALENDAR of these sessions as the user sees them."""
    cal = Calendar()
    cal.add("prodid", "-//Manabi//Tutoring sessions//JA")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", _("Manabi sessions"))
    stamp = utcnow()
    for session in sessions:
        event = Event()
        event.add("uid", f"session-{session.id}@{host}")
        event.add("dtstamp", stamp)
        event.add("dtstart", session.starts_at)
        event.add("dtend", session.ends_at)
        event.add("summary", _summary(user, session))
        event.add("location", _location(session))
        event.add("url", url_for("scheduling.detail", session_id=session.id, _external=True))
        event.add("sequence", session.revision)
        event.add("last-modified", session.updated_at)
        event.add("status", "CANCELLED" if session.status is Status.CANCELLED else "CONFIRMED")
        # No cancel reason or notes: calendars sync to outside services.
        cal.add_component(event)
    return cal.to_ical()
