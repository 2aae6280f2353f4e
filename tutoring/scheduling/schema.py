"""Input of the sessions API, checked into the arguments of the service functions."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l

from tutoring.extensions import db
from tutoring.i18n import program_zone
from tutoring.people.models import User
from tutoring.scheduling.models import Kind, Mode, Venue
from tutoring.scheduling.service import MAX_MINUTES, MIN_MINUTES, Scope
from tutoring.validation import ValidationError, choice, integer, text


def instant(value: Any, field: str) -> datetime:
    """Return an aware datetime from ISO 8601; without an offset it is the program's local time."""
    if not isinstance(value, str) or len(value) > 40:
        raise ValidationError(
            field, _l("Give a date and time in ISO 8601, e.g. 2026-12-01T16:00:00+09:00.")
        )
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ValidationError(
            field, _l("Give a date and time in ISO 8601, e.g. 2026-12-01T16:00:00+09:00.")
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=program_zone())
    return moment


def day(value: Any, field: str) -> date:
    """Return a date from YYYY-MM-DD."""
    if not isinstance(value, str) or len(value) != 10:
        raise ValidationError(field, _l("Give a date as YYYY-MM-DD."))
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValidationError(field, _l("Give a date as YYYY-MM-DD.")) from None


def range_bound(value: str | None, field: str, *, end: bool) -> datetime | None:
    """Return a query bound from a date (whole day in the program's zone; `to` inclusive) or a date-time."""
    if value is None or value == "":
        return None
    if len(value) == 10:
        start_of_day = datetime.combine(day(value, field), time(), tzinfo=program_zone())
        return start_of_day + timedelta(days=1) if end else start_of_day
    return instant(value, field)


def _user(data: dict, field: str, *, required: bool = True) -> User | None:
    if data.get(field) is None and not required:
        return None
    user_id = integer(data, field, minimum=1, maximum=2**31 - 1)
    user = db.session.get(User, user_id)
    if user is None:
        raise ValidationError(field, _l("No such person."))
    return user


def _venue(data: dict) -> Venue | None:
    if data.get("venue_id") is None:
        return None
    venue = db.session.get(Venue, integer(data, "venue_id", minimum=1, maximum=2**31 - 1))
    if venue is None:
        raise ValidationError("venue_id", _l("No such venue."))
    return venue


def booking(data: dict) -> dict:
    """Return book_sessions' keyword arguments from a POST /api/v1/sessions body."""
    return {
        "learner": _user(data, "learner_id"),
        "tutor": _user(data, "tutor_id"),
        "starts_at": instant(data.get("starts_at"), "starts_at"),
        "duration_minutes": integer(
            data,
            "duration_minutes",
            minimum=MIN_MINUTES,
            maximum=MAX_MINUTES,
            default=current_app.config["SESSION_DEFAULT_MINUTES"],
        ),
        "kind": choice(data, "kind", Kind, default=Kind.STUDY.value),
        "mode": choice(data, "mode", Mode, default=Mode.ONLINE.value),
        "venue": _venue(data),
        "weekly_until": day(data["weekly_until"], "weekly_until")
        if data.get("weekly_until") is not None
        else None,
    }


def changes(data: dict) -> dict:
    """Return reschedule's keyword arguments from a PATCH body; absent fields stay unchanged."""
    result: dict[str, Any] = {"scope": data.get("scope", Scope.THIS)}
    if result["scope"] not in Scope.ALL:
        raise ValidationError(
            "scope", _l("Must be one of: %(allowed)s.", allowed=", ".join(Scope.ALL))
        )
    if "starts_at" in data:
        result["starts_at"] = instant(data["starts_at"], "starts_at")
    if "duration_minutes" in data:
        result["duration_minutes"] = integer(
            data, "duration_minutes", minimum=MIN_MINUTES, maximum=MAX_MINUTES
        )
    if "tutor_id" in data:
        result["tutor"] = _user(data, "tutor_id")
    if "mode" in data:
        result["mode"] = choice(data, "mode", Mode)
    if "venue_id" in data:
        result["venue"] = _venue(data)
    known = {"starts_at", "duration_minutes", "tutor_id", "mode", "venue_id", "scope"}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ValidationError(unknown[0], _l("This field cannot be changed here."))
    return result


def cancellation(data: dict) -> dict:
    """Return cancel's keyword arguments from a POST …/cancel body."""
    scope = data.get("scope", Scope.THIS)
    if scope not in Scope.ALL:
        raise ValidationError(
            "scope", _l("Must be one of: %(allowed)s.", allowed=", ".join(Scope.ALL))
        )
    return {"reason": text(data, "reason", max_length=500), "scope": scope}
