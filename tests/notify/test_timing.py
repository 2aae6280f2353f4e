"""Reminder windows and quiet hours, at their boundaries and across time zones."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from tutoring.notify.models import MessageKind
from tutoring.notify.timing import (
    change_notice_time,
    plan_reminder,
    quiet_until,
    reminder_is_due,
    retry_delay,
)

TOKYO = ZoneInfo("Asia/Tokyo")
NEW_YORK = ZoneInfo("America/New_York")
NIGHT = {"quiet_start": time(21, 0), "quiet_end": time(8, 0)}


def at(zone, *args) -> datetime:
    return datetime(*args, tzinfo=zone)


@pytest.mark.parametrize(
    ("local", "quiet"),
    [
        ((2026, 12, 1, 20, 59), None),  # a minute before quiet hours start
        ((2026, 12, 1, 21, 0), (2026, 12, 2, 8, 0)),  # the first quiet minute: until tomorrow
        ((2026, 12, 1, 23, 30), (2026, 12, 2, 8, 0)),
        ((2026, 12, 2, 0, 0), (2026, 12, 2, 8, 0)),  # after midnight: until this morning
        ((2026, 12, 2, 7, 59), (2026, 12, 2, 8, 0)),
        ((2026, 12, 2, 8, 0), None),  # the end is not quiet any more
    ],
)
def test_quiet_hours_over_midnight_in_the_programs_zone(local, quiet):
    moment = at(TOKYO, *local).astimezone(UTC)
    expected = at(TOKYO, *quiet).astimezone(UTC) if quiet else None
    assert quiet_until(moment, time(21, 0), time(8, 0), TOKYO) == expected


def test_quiet_hours_are_wall_clock_times_not_utc():
    # 22:00 in Tokyo is 13:00 UTC: quiet for the learner, though 13:00 looks like daytime.
    moment = datetime(2026, 12, 1, 13, 0, tzinfo=UTC)
    assert quiet_until(moment, time(21, 0), time(8, 0), TOKYO) == datetime(
        2026, 12, 1, 23, 0, tzinfo=UTC
    )
    # The same instant is 08:00 in New York: not quiet there.
    assert quiet_until(moment, time(21, 0), time(8, 0), NEW_YORK) is None


def test_quiet_hours_end_at_local_eight_across_a_daylight_saving_change():
    # New York leaves daylight saving time on 1 November 2026 at 02:00.
    moment = at(NEW_YORK, 2026, 10, 31, 23, 0)  # EDT, UTC-4
    end = quiet_until(moment, time(21, 0), time(8, 0), NEW_YORK)
    assert end == at(NEW_YORK, 2026, 11, 1, 8, 0)
    assert end == datetime(2026, 11, 1, 13, 0, tzinfo=UTC)  # EST, UTC-5


def test_daytime_quiet_hours_and_none():
    lunch = (time(12, 0), time(13, 0))
    assert quiet_until(at(TOKYO, 2026, 12, 1, 12, 30), *lunch, TOKYO) == at(TOKYO, 2026, 12, 1, 13)
    assert quiet_until(at(TOKYO, 2026, 12, 1, 13, 0), *lunch, TOKYO) is None
    assert quiet_until(at(TOKYO, 2026, 12, 1, 23, 0), None, None, TOKYO) is None
    assert quiet_until(at(TOKYO, 2026, 12, 1, 23, 0), time(8), time(8), TOKYO) is None


def test_reminders_go_at_their_time_when_it_is_not_quiet():
    start = at(TOKYO, 2026, 12, 2, 16, 0)
    day = plan_reminder(MessageKind.REMINDER_DAY, start, zone=TOKYO, **NIGHT)
    hour = plan_reminder(MessageKind.REMINDER_HOUR, start, zone=TOKYO, **NIGHT)
    assert day.send_at == start - timedelta(hours=24)
    assert hour.send_at == start - timedelta(hours=1)


def test_a_reminder_in_quiet_hours_waits_for_the_morning():
    start = at(TOKYO, 2026, 12, 2, 22, 30)  # a late session: the day before is 22:30, quiet
    day = plan_reminder(MessageKind.REMINDER_DAY, start, zone=TOKYO, **NIGHT)
    assert day.send_at == at(TOKYO, 2026, 12, 2, 8, 0)
    early = at(TOKYO, 2026, 12, 2, 8, 30)  # the hour before is 07:30: quiet until 08:00
    hour = plan_reminder(MessageKind.REMINDER_HOUR, early, zone=TOKYO, **NIGHT)
    assert hour.send_at == at(TOKYO, 2026, 12, 2, 8, 0)


def test_a_reminder_pushed_past_its_window_is_not_sent():
    start = at(TOKYO, 2026, 12, 2, 7, 30)  # quiet hours end after the session starts
    hour = plan_reminder(MessageKind.REMINDER_HOUR, start, zone=TOKYO, **NIGHT)
    assert hour.send_at is None
    assert hour.reason == "quiet_hours"
    start = at(TOKYO, 2026, 12, 2, 10, 0)  # day before at 10:00 is fine
    assert plan_reminder(MessageKind.REMINDER_DAY, start, zone=TOKYO, **NIGHT).send_at


def test_reminder_is_due_from_its_time_until_its_window_closes():
    start = at(TOKYO, 2026, 12, 2, 16, 0)
    day = plan_reminder(MessageKind.REMINDER_DAY, start, zone=TOKYO, **NIGHT)
    due = day.send_at
    assert not reminder_is_due(day, MessageKind.REMINDER_DAY, start, due - timedelta(seconds=1))
    assert reminder_is_due(day, MessageKind.REMINDER_DAY, start, due)
    # Three hours before the start the day-before reminder is too late: the hour one follows.
    closes = start - timedelta(hours=3)
    assert reminder_is_due(day, MessageKind.REMINDER_DAY, start, closes - timedelta(seconds=1))
    assert not reminder_is_due(day, MessageKind.REMINDER_DAY, start, closes)
    hour = plan_reminder(MessageKind.REMINDER_HOUR, start, zone=TOKYO, **NIGHT)
    assert reminder_is_due(hour, MessageKind.REMINDER_HOUR, start, start - timedelta(minutes=1))
    assert not reminder_is_due(hour, MessageKind.REMINDER_HOUR, start, start)


def test_change_notices_wait_for_the_morning_unless_the_session_is_before_it():
    night = at(TOKYO, 2026, 12, 1, 23, 0)
    later = at(TOKYO, 2026, 12, 3, 16, 0)
    assert change_notice_time(night, later, zone=TOKYO, **NIGHT) == at(TOKYO, 2026, 12, 2, 8, 0)
    early = at(TOKYO, 2026, 12, 2, 7, 0)  # the learner would set off before 08:00
    assert change_notice_time(night, early, zone=TOKYO, **NIGHT) == night
    day = at(TOKYO, 2026, 12, 1, 15, 0)
    assert change_notice_time(day, later, zone=TOKYO, **NIGHT) == day


def test_retry_delay_doubles_up_to_the_maximum_and_honours_retry_after():
    delays = [retry_delay(n, base=60, maximum=3600, retry_after=None) for n in range(1, 9)]
    assert delays == [60, 120, 240, 480, 960, 1920, 3600, 3600]
    assert retry_delay(1, base=60, maximum=3600, retry_after=300) == 300
    assert retry_delay(1, base=60, maximum=3600, retry_after=10**6) == 3600
