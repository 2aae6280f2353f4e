"""Pages: the program report with its charts, and the lists behind its figures (staff only)."""

from __future__ import annotations

from collections.abc import Mapping

from flask import Blueprint, render_template, request
from flask_babel import lazy_gettext as _l

from tutoring.auth.permissions import managers_only
from tutoring.records.labels import OUTCOMES, STATUSES
from tutoring.records.models import OutcomeKind
from tutoring.reports import exports, service
from tutoring.reports.chart import hbar_chart
from tutoring.reports.periods import (
    FIRST_YEAR,
    Period,
    current_fiscal_year,
    fiscal_year_label,
    parse_period,
)
from tutoring.scheduling.models import Kind, Mode
from tutoring.validation import ValidationError

bp = Blueprint("reports", __name__, url_prefix="/reports")
PER_PAGE = 200


def period_args(period: Period) -> dict[str, str]:
    """Return the query arguments naming a period, for links to lists and exports."""
    if period.fiscal_year is not None:
        return {"fiscal_year": str(period.fiscal_year)}
    return {"from": period.first_day.isoformat(), "to": period.last_day.isoformat()}


def _year_choices() -> list[tuple[int, str]]:
    latest = current_fiscal_year() + 1
    return [(year, fiscal_year_label(year)) for year in range(latest, FIRST_YEAR + 29, -1)]


def _form_context(args: Mapping[str, str]) -> dict:
    return {
        "years": _year_choices(),
        # A date range keeps the current year chosen in the picker, ready to go back to.
        "chosen_year": args.get("fiscal_year") or str(current_fiscal_year()),
        "range_from": args.get("from") or "",
        "range_to": args.get("to") or "",
        "errors": {},
    }


@bp.get("/program")
@managers_only
def program():
    """Show the report of a fiscal year (default: the current one) or of a date range."""
    context = _form_context(request.args)
    try:
        period = parse_period(request.args)
    except ValidationError as error:
        context["errors"] = {error.field: str(error.message)}
        return render_template("reports/program.html", report=None, **context), 400
    report = service.program_report(period)
    if period.fiscal_year is not None:
        context["chosen_year"] = str(period.fiscal_year)
    months = [(f"{m.month.month}月", m.total) for m in report.by_month]
    context.update(
        report=report,
        args=period_args(period),
        outcome_labels=OUTCOMES,
        month_chart=hbar_chart(months),
        venue_chart=hbar_chart([(v.name, v.unique_learners) for v in report.by_venue]),
        outcome_chart=hbar_chart([(str(OUTCOMES[k]), n) for k, n in report.outcomes.items()]),
    )
    return render_template("reports/program.html", **context)


FIGURE_TITLES = {
    "took_part": _l("Learners who took part"),
    "continuing": _l("Learners continuing from before"),
    "new": _l("Newly registered learners"),
    "active_at_end": _l("Learners active at the end"),
    "consultations": _l("Learners with a learning consultation"),
    "study_sessions": _l("Learners with a study session"),
    "sat_exam": _l("Exam takers"),
    "subject_passers": _l("Learners who passed a subject"),
    "certificate": _l("Passers (certificate obtained)"),
}


def _figure(args: Mapping[str, str]) -> tuple[str, str]:
    figure = args.get("figure") or ""
    if figure in FIGURE_TITLES:
        return figure, str(FIGURE_TITLES[figure])
    if figure.startswith("outcome:"):
        kind = figure.removeprefix("outcome:")
        if kind in {k.value for k in OutcomeKind}:
            return figure, str(OUTCOMES[OutcomeKind(kind)])
    allowed = ", ".join([*FIGURE_TITLES, *(f"outcome:{k.value}" for k in OutcomeKind)])
    raise ValidationError("figure", _l("Must be one of: %(allowed)s.", allowed=allowed))


@bp.get("/program/learners")
@managers_only
def learners():
    """List the learners behind a learner figure of the report."""
    period = parse_period(request.args)
    figure, title = _figure(request.args)
    report = service.program_report(period)
    return render_template(
        "reports/learners.html",
        report=report,
        title=title,
        rows=service.learners_for(report, figure),
        args=period_args(period),
        statuses=STATUSES,
        outcome_labels=OUTCOMES,
    )


def _whole(args: Mapping[str, str], name: str) -> int | None:
    value = args.get(name) or ""
    if not value:
        return None
    if not value.isdigit() or len(value) > 9:
        raise ValidationError(name, _l("Must be a whole number."))
    return int(value)


@bp.get("/program/sessions")
@managers_only
def sessions():
    """List the held sessions behind a session figure: by kind, online, or at a venue."""
    period = parse_period(request.args)
    kind_value = request.args.get("kind") or "study"
    if kind_value not in {k.value for k in Kind}:
        raise ValidationError(
            "kind", _l("Must be one of: %(allowed)s.", allowed=", ".join(k.value for k in Kind))
        )
    mode_value = request.args.get("mode") or None
    if mode_value is not None and mode_value not in {m.value for m in Mode}:
        raise ValidationError(
            "mode", _l("Must be one of: %(allowed)s.", allowed=", ".join(m.value for m in Mode))
        )
    venue_id = _whole(request.args, "venue_id")
    page = _whole(request.args, "page") or 1
    if page > 100_000:
        raise ValidationError(
            "page", _l("Must be between %(min)d and %(max)d.", min=1, max=100_000)
        )
    filters = {
        "kind": Kind(kind_value),
        "mode": Mode(mode_value) if mode_value else None,
        "venue_id": venue_id,
    }
    total = service.count_held_sessions(period, **filters)
    rows = list(
        exports.session_rows(service.held_sessions(period, page=page, per_page=PER_PAGE, **filters))
    )
    link_args = {
        **period_args(period),
        "kind": kind_value,
        **({"mode": mode_value} if mode_value else {}),
        **({"venue_id": venue_id} if venue_id is not None else {}),
    }
    return render_template(
        "reports/sessions.html",
        period=period,
        total=total,
        rows=rows,
        headers=exports.session_headers(),
        page=page,
        pages=max(1, -(-total // PER_PAGE)),
        args=period_args(period),
        link_args=link_args,
        filters=filters,
    )
