"""Fiscal years (April to March), Japanese era labels and the report's period from a query."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from tutoring.i18n import program_zone
from tutoring.validation import ValidationError

FIRST_YEAR = 1989
LAST_YEAR = 2100
MAX_RANGE_DAYS = 731  # two years: per-month series stay readable
# (the calendar year an era began, its name); newest first. 令和 began on 1 May 2019, 平成 on
# 8 January 1989, 昭和 on 25 December 1926.
ERAS = ((2019, "令和"), (1989, "平成"), (1926, "昭和"))


def fiscal_year_of(day: date) -> int:
    """Return the fiscal year (April to March) a calendar date belongs to."""
    return day.year if day.month >= 4 else day.year - 1


def era_year(fiscal_year: int) -> tuple[str, int]:
    """Return the era and its year a fiscal year is named by, e.g. 2025 -> ("令和", 7).

    A fiscal year is named by the era of the calendar year it begins in: FY2019 began on
    1 April under 平成 but is 令和元年度, as municipalities name it; FY1989 is 平成元年度.
    """
    for first, name in ERAS:
        if fiscal_year >= first:
            return name, fiscal_year - first + 1
    raise ValueError(f"no era for {fiscal_year}")


def era_label(fiscal_year: int) -> str:
    """Return the era name of a fiscal year: 令和7年度, 令和元年度 (the first year is 元)."""
    name, year = era_year(fiscal_year)
    return f"{name}{'元' if year == 1 else year}年度"


def fiscal_year_label(fiscal_year: int) -> str:
    """Return the label of a fiscal year in the user's language: 2025年度（令和7年度）."""
    return _("FY%(year)d (%(era)s)", year=fiscal_year, era=era_label(fiscal_year))


@dataclass(frozen=True)
class Period:
    """What a report covers: whole days in the program's zone, and the instants they span."""

    first_day: date
    last_day: date  # inclusive
    fiscal_year: int | None = None  # None for a date range

    @property
    def start(self) -> datetime:
        return datetime.combine(self.first_day, time(), tzinfo=program_zone())

    @property
    def end(self) -> datetime:
        """Return the first instant after the period (exclusive)."""
        return datetime.combine(self.last_day + timedelta(days=1), time(), tzinfo=program_zone())

    @property
    def label(self) -> str:
        if self.fiscal_year is not None:
            return fiscal_year_label(self.fiscal_year)
        return f"{self.first_day.isoformat()} – {self.last_day.isoformat()}"

    def months(self) -> list[date]:
        """Return the first day of every month the period touches, in order."""
        month = self.first_day.replace(day=1)
        months = []
        while month <= self.last_day:
            months.append(month)
            month = (month + timedelta(days=32)).replace(day=1)
        return months


def fiscal_year(year: int) -> Period:
    """Return the period of a fiscal year: 1 April to 31 March."""
    return Period(date(year, 4, 1), date(year + 1, 3, 31), year)


def current_fiscal_year() -> int:
    """Return the fiscal year of today in the program's zone."""
    return fiscal_year_of(datetime.now(program_zone()).date())


def _day(args: Mapping[str, str], field: str) -> date:
    value = args.get(field) or ""
    try:
        if len(value) != 10:
            raise ValueError(value)
        return date.fromisoformat(value)
    except ValueError:
        raise ValidationError(field, _l("Give a date as YYYY-MM-DD.")) from None


def parse_period(args: Mapping[str, str]) -> Period:
    """Return the period a query asks for: `fiscal_year`, or `from` and `to` (dates, inclusive).

    Without either, the current fiscal year. Raise ValidationError naming the bad field.
    """
    ranged = bool(args.get("from") or args.get("to"))
    raw_year = args.get("fiscal_year") or ""
    if ranged:
        if raw_year:
            raise ValidationError(
                "fiscal_year", _l("Give a fiscal year or a date range, not both.")
            )
        first, last = _day(args, "from"), _day(args, "to")
        if last < first:
            raise ValidationError("to", _l("Must not be before `from`."))
        if (last - first).days >= MAX_RANGE_DAYS:
            raise ValidationError("to", _l("A range covers at most %(n)d days.", n=MAX_RANGE_DAYS))
        return Period(first, last)
    if not raw_year:
        return fiscal_year(current_fiscal_year())
    if not raw_year.isdigit() or len(raw_year) != 4:
        raise ValidationError("fiscal_year", _l("Give a year such as 2025."))
    year = int(raw_year)
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise ValidationError(
            "fiscal_year",
            _l("Must be between %(min)d and %(max)d.", min=FIRST_YEAR, max=LAST_YEAR),
        )
    return fiscal_year(year)
