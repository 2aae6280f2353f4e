"""Words for statuses, outcomes and warnings: pages and exports say them the same way."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from tutoring.attendance.models import AttendanceStatus
from tutoring.attendance.review import Reason
from tutoring.attendance.service import Outcome

STATUS_LABELS = {
    AttendanceStatus.PRESENT: _l("Present"),
    AttendanceStatus.LATE: _l("Late"),
    AttendanceStatus.LEFT_EARLY: _l("Left early"),
    AttendanceStatus.ABSENT: _l("Absent"),
    AttendanceStatus.EXCUSED: _l("Excused"),
}

OUTCOME_LABELS = {
    Outcome.HELD: _l("Held"),
    Outcome.LEARNER_NO_SHOW: _l("Learner no-show"),
    Outcome.TUTOR_NO_SHOW: _l("Tutor no-show"),
    Outcome.NO_SHOW: _l("Neither came"),
    Outcome.CANCELLED: _l("Cancelled"),
    Outcome.PENDING: _l("Not recorded yet"),
}


def status_label(status: AttendanceStatus | str | None) -> str:
    """Return the word for a participant's status ("Not recorded" for none)."""
    if not status:
        return str(_l("Not recorded"))
    return str(STATUS_LABELS[AttendanceStatus(status)])


def outcome_label(outcome: Outcome | str) -> str:
    """Return the word for a session's outcome."""
    return str(OUTCOME_LABELS[Outcome(outcome)])


def reason_label(reason: str, *, in_a_row: int = 0, idle_days: int | None = None) -> str:
    """Return why a learner is flagged."""
    if reason == Reason.MISSED_IN_A_ROW:
        return str(_l("Missed the last %(n)d planned sessions", n=in_a_row))
    if reason == Reason.IDLE:
        return str(_l("No session attended for %(n)d days", n=idle_days or 0))
    return str(_l("No session attended yet"))


def status_filter_choices() -> list[tuple[str, str]]:
    """Return the status filter's options: the learner's statuses, then special cases."""
    return [
        *((status.value, str(label)) for status, label in STATUS_LABELS.items()),
        ("unrecorded", str(_l("Learner not recorded"))),
        ("tutor_absent", str(_l("Tutor absent"))),
    ]
