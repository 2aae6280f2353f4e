"""When messages go out: reminder windows and quiet hours, as pure functions of the clock."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from tutoring.notify.models import MessageKind


@dataclass(frozen=True)
class Window:
    """When a reminder may be sent, relative to the session's start."""

    before: timedelta  # the ideal moment: this long before the start
    until: timedelta  # too late from this long before the start on


REMINDER_WINDOWS = {
    # The day before; a session booked at short notice gets only the hour-before reminder.
    MessageKind.REMINDER_DAY: Window(before=timedelta(hours=24), until=timedelta(hours=3)),
    MessageKind.REMINDER_HOUR: Window(before=timedelta(hours=1), until=timedelta(0)),
}


def _at(day, clock: time, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, clock, tzinfo=zone).astimezone(UTC)


def quiet_until(
    moment: datetime, start: time | None, end: time | None, zone: ZoneInfo
) -> datetime | None:
    """Return when quiet hours holding `moment` end (UTC), or None when it is not quiet.

    Quiet hours are wall-clock times in the program's zone and may span midnight (21:00–08:00).
    """
    if start is None or end is None or start == end:
        return None
    local = moment.astimezone(zone)
    clock = local.time().replace(tzinfo=None)
    if start < end:  # e.g. 13:00–14:00, within one day
        return _at(local.date(), end, zone) if start <= clock < end else None
    if clock >= start:  # evening part: quiet until the end time tomorrow
        return _at(local.date() + timedelta(days=1), end, zone)
    if clock < end:  # morning part
        return _at(local.date(), end, zone)
    return None


def outside_quiet_hours(
    moment: datetime, start: time | None, end: time | None, zone: ZoneInfo
) -> datetime:
    """Return moment, or the end of the quiet hours it falls in."""
    return quiet_until(moment, start, end, zone) or moment


@dataclass(frozen=True)
class ReminderPlan:
    """When a reminder goes out, or why it does not."""

    send_at: datetime | None  # None: not sent
    reason: str | None = None  # "too_late" or "quiet_hours" when not sent


def plan_reminder(
    kind: MessageKind,
    starts_at: datetime,
    *,
    quiet_start: time | None,
    quiet_end: time | None,
    zone: ZoneInfo,
) -> ReminderPlan:
    """Return when a reminder of a session is sent: its ideal time moved out of quiet hours.

    A reminder pushed by quiet hours past its window (e.g. the hour-before reminder of a
    session at 07:30 with quiet hours until 08:00) is not sent.
    """
    window = REMINDER_WINDOWS[kind]
    ideal = starts_at - window.before
    send_at = outside_quiet_hours(ideal, quiet_start, quiet_end, zone)
    if send_at >= starts_at - window.until:
        return ReminderPlan(None, "quiet_hours")
    return ReminderPlan(send_at)


def reminder_is_due(plan: ReminderPlan, kind: MessageKind, starts_at: datetime, now: datetime):
    """Tell whether a planned reminder should be queued now (its time came, its window is open)."""
    if plan.send_at is None:
        return False
    return plan.send_at <= now < starts_at - REMINDER_WINDOWS[kind].until


def change_notice_time(
    now: datetime,
    starts_at: datetime,
    *,
    quiet_start: time | None,
    quiet_end: time | None,
    zone: ZoneInfo,
) -> datetime:
    """Return when a cancel or move notice goes out: now, or after quiet hours.

    When the session (as it was) starts before the quiet hours end, the notice goes at once:
    otherwise the learner would set off for a session that is not there.
    """
    after = quiet_until(now, quiet_start, quiet_end, zone)
    if after is None or starts_at <= after:
        return now
    return after


def retry_delay(attempts: int, *, base: float, maximum: float, retry_after: float | None) -> float:
    """Return seconds to wait before the next attempt: doubling from base, at most maximum."""
    delay = min(maximum, base * 2 ** max(0, attempts - 1))
    if retry_after is not None:
        delay = min(maximum, max(delay, retry_after))
    return delay
