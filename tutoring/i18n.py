"""Language and time-zone choices, and the template filters that show times."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from babel.dates import format_skeleton
from flask import current_app, has_request_context, request, session
from flask_babel import format_date, format_datetime, format_time, get_locale
from flask_login import current_user


def select_locale() -> str:
    """Return the user's language, else the one chosen this visit, else the browser's."""
    languages = current_app.config["LANGUAGES"]
    if not has_request_context():  # commands and background work
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    if current_user.is_authenticated and current_user.locale in languages:
        return current_user.locale
    if session.get("locale") in languages:
        return session["locale"]
    return (
        request.accept_languages.best_match(languages) or current_app.config["BABEL_DEFAULT_LOCALE"]
    )


def program_zone() -> ZoneInfo:
    """Return the program's time zone (TUTORING_TIMEZONE, default Asia/Tokyo)."""
    return ZoneInfo(current_app.config["TIMEZONE"])


def to_local(moment: datetime) -> datetime:
    """Return an aware UTC datetime in the program's zone."""
    return moment.astimezone(program_zone())


def html_lang() -> str:
    """Return the BCP 47 tag for the page's lang attribute."""
    return str(get_locale() or current_app.config["BABEL_DEFAULT_LOCALE"])


def register_filters(app) -> None:
    """Register the Jinja filters that show UTC datetimes in the program's zone."""

    @app.template_filter("datetime")
    def _datetime(moment: datetime | None, format: str = "medium") -> str:  # noqa: A002
        return format_datetime(moment, format) if moment else ""

    @app.template_filter("date")
    def _date(moment: datetime | None, format: str = "medium") -> str:  # noqa: A002
        return format_date(to_local(moment), format) if moment else ""

    @app.template_filter("day")
    def _day(moment: datetime | None, skeleton: str = "MMMEd") -> str:
        """Show the date in the program's zone: 12月3日(水) / Wed, Dec 3."""
        if not moment:
            return ""
        return format_skeleton(skeleton, to_local(moment), locale=html_lang())

    @app.template_filter("weekday_label")
    def _weekday_label(day: date, skeleton: str = "MMMEd") -> str:
        """Show a calendar date (no time zone involved): 12月3日(水)."""
        return format_skeleton(skeleton, day, locale=html_lang())

    @app.template_filter("clock")
    def _clock(moment: datetime | None) -> str:
        return format_time(moment, "HH:mm") if moment else ""

    @app.template_filter("fromiso")
    def _fromiso(value: str) -> datetime:
        return datetime.fromisoformat(value)

    @app.template_filter("localdate")
    def _localdate(moment: datetime) -> str:
        """Return the ISO date of an instant in the program's zone."""
        return to_local(moment).date().isoformat()

    @app.template_filter("is_future")
    def _is_future(moment: datetime) -> bool:
        from tutoring.database import utcnow

        return moment > utcnow()

    app.jinja_env.globals["html_lang"] = html_lang
    app.jinja_env.add_extension("jinja2.ext.do")
