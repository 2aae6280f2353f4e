"""Weekly series: every occurrence up to weekly_until in the program's zone, at the same wall-clock time."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tests.scheduling.conftest import TOKYO, session_count, tokyo
from tutoring.extensions import db
from tutoring.scheduling import service
from tutoring.scheduling.models import TutoringSession
from tutoring.validation import ValidationError


def starts(app, ids, zone=TOKYO) -> list[datetime]:
    with app.app_context():
        return [db.session.get(TutoringSession, i).starts_at.astimezone(zone) for i in ids]


def test_series_across_month_and_year_end(app, book):
    ids = book(tokyo(2026, 12, 17, 16, 0), weekly_until=date(2027, 1, 14))
    assert [s.date() for s in starts(app, ids)] == [
        date(2026, 12, 17),
        date(2026, 12, 24),
        date(2026, 12, 31),
        date(2027, 1, 7),
        date(2027, 1, 14),
    ]
    assert {s.hour for s in starts(app, ids)} == {16}


def test_weekly_until_on_the_start_weekday_is_included(app, book):
    ids = book(tokyo(2026, 4, 7, 10, 0), weekly_until=date(2026, 4, 21))
    assert [s.day for s in starts(app, ids)] == [7, 14, 21]


def test_weekly_until_the_day_before_excludes_that_week(app, book):
    ids = book(tokyo(2026, 4, 7, 10, 0), weekly_until=date(2026, 4, 20))
    assert [s.day for s in starts(app, ids)] == [7, 14]


def test_until_is_a_tokyo_date_for_a_start_near_midnight(app, book):
    # 00:30 on Tuesday in Tokyo is still Monday in UTC: the series counts Tokyo dates.
    first = tokyo(2026, 12, 1, 0, 30)
    assert first.astimezone(UTC).date() == date(2026, 11, 30)
    ids = book(first, weekly_until=date(2026, 12, 15))
    assert [s.date() for s in starts(app, ids)] == [
        date(2026, 12, 1),
        date(2026, 12, 8),
        date(2026, 12, 15),
    ]
    assert all(s.time().hour == 0 and s.time().minute == 30 for s in starts(app, ids))


@pytest.fixture
def app_config():
    return {}


@pytest.mark.parametrize("app_config", [{"TIMEZONE": "America/New_York"}])
def test_series_keeps_local_time_across_daylight_saving(app, book, app_config):
    new_york = ZoneInfo("America/New_York")
    ids = book(datetime(2026, 10, 27, 16, 0, tzinfo=new_york), weekly_until=date(2026, 11, 10))
    local = starts(app, ids, new_york)
    assert [s.hour for s in local] == [16, 16, 16]
    utc_hours = [s.astimezone(UTC).hour for s in local]
    assert utc_hours == [20, 21, 21]  # DST ended on 1 November 2026


def test_single_session_without_weekly_until(app, book):
    ids = book(tokyo(2026, 5, 1, 16, 0))
    assert len(ids) == 1
    with app.app_context():
        assert db.session.get(TutoringSession, ids[0]).series_id is None


def test_series_shares_one_series_id(app, book):
    ids = book(tokyo(2026, 5, 1, 16, 0), weekly_until=date(2026, 5, 29))
    with app.app_context():
        series = {db.session.get(TutoringSession, i).series_id for i in ids}
    assert len(series) == 1
    assert None not in series


def test_until_before_start_is_refused(app, book):
    with pytest.raises(ValidationError) as error:
        book(tokyo(2026, 5, 8, 16, 0), weekly_until=date(2026, 5, 7))
    assert error.value.field == "weekly_until"
    assert session_count(app) == 0


def test_too_long_series_is_refused(app, book):
    with pytest.raises(ValidationError) as error:
        book(tokyo(2026, 4, 1, 16, 0), weekly_until=date(2028, 4, 1))
    assert error.value.field == "weekly_until"
    assert session_count(app) == 0


def test_join_window_from_15_minutes_before_to_30_after(app, book):
    [session_id] = book(tokyo(2026, 6, 1, 16, 0), minutes=120)
    with app.app_context():
        session = db.session.get(TutoringSession, session_id)
        opens, closes = service.join_window(session)
        assert opens == tokyo(2026, 6, 1, 15, 45)
        assert closes == tokyo(2026, 6, 1, 18, 30)
        assert not service.room_is_open(session, opens - timedelta(seconds=1))
        assert service.room_is_open(session, opens)
        assert service.room_is_open(session, closes)
        assert not service.room_is_open(session, closes + timedelta(seconds=1))
