"""Fiscal years and their Japanese era labels."""

from __future__ import annotations

from datetime import date

import pytest

from tutoring.reports.periods import (
    era_label,
    era_year,
    fiscal_year,
    fiscal_year_label,
    fiscal_year_of,
    parse_period,
)
from tutoring.validation import ValidationError


@pytest.mark.parametrize(
    ("day", "year"),
    [
        (date(2025, 4, 1), 2025),
        (date(2026, 3, 31), 2025),
        (date(2026, 4, 1), 2026),
        (date(2026, 1, 1), 2025),
    ],
)
def test_fiscal_year_runs_april_to_march(day, year):
    assert fiscal_year_of(day) == year


@pytest.mark.parametrize(
    ("year", "label"),
    [
        (2025, "令和7年度"),
        (2020, "令和2年度"),
        (2019, "令和元年度"),  # began under 平成 on 1 April; named by 令和, as municipalities do
        (2018, "平成30年度"),
        (1989, "平成元年度"),
        (1988, "昭和63年度"),
    ],
)
def test_era_labels(year, label):
    assert era_label(year) == label


def test_era_year_counts_from_one():
    assert era_year(2019) == ("令和", 1)
    assert era_year(2026) == ("令和", 8)


def test_fiscal_year_label_in_both_languages(app):
    with app.test_request_context(headers={"Accept-Language": "ja"}):
        assert fiscal_year_label(2025) == "2025年度（令和7年度）"
    with app.test_request_context(headers={"Accept-Language": "en"}):
        assert fiscal_year_label(2025) == "FY2025 (令和7年度)"


def test_a_fiscal_year_spans_whole_days_in_the_program_zone(app):
    with app.app_context():
        period = fiscal_year(2025)
        assert period.first_day == date(2025, 4, 1)
        assert period.last_day == date(2026, 3, 31)
        assert period.start.isoformat() == "2025-04-01T00:00:00+09:00"
        assert period.end.isoformat() == "2026-04-01T00:00:00+09:00"
        assert [m.month for m in period.months()] == [4, 5, 6, 7, 8, 9, 10, 11, 12, 1, 2, 3]


@pytest.mark.parametrize(
    ("args", "field"),
    [
        ({"fiscal_year": "abc"}, "fiscal_year"),
        ({"fiscal_year": "99999"}, "fiscal_year"),
        ({"fiscal_year": "1900"}, "fiscal_year"),
        ({"from": "2025-05-01", "to": "2025-04-01"}, "to"),
        ({"from": "2025-05-01"}, "to"),
        ({"from": "yesterday", "to": "2025-04-01"}, "from"),
        ({"from": "2020-01-01", "to": "2025-04-01"}, "to"),
        ({"fiscal_year": "2025", "from": "2025-05-01", "to": "2025-06-01"}, "fiscal_year"),
    ],
)
def test_bad_periods_name_their_field(app, args, field):
    with app.app_context(), pytest.raises(ValidationError) as caught:
        parse_period(args)
    assert caught.value.field == field


def test_a_date_range_is_inclusive(app):
    with app.app_context():
        period = parse_period({"from": "2025-05-01", "to": "2025-05-31"})
        assert period.fiscal_year is None
        assert period.end.isoformat() == "2025-06-01T00:00:00+09:00"
