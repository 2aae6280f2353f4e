"""JSON API v1: the program report (coordinators and admins), as JSON, CSV or XLSX."""

from __future__ import annotations

from flask import Response, jsonify, request, stream_with_context
from flask_babel import lazy_gettext as _l

from tutoring.api.views import bp
from tutoring.auth.permissions import managers_only
from tutoring.reports import exports, service
from tutoring.reports.periods import parse_period
from tutoring.validation import ValidationError

FORMATS = ("json", "csv", "xlsx")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _one_of(name: str, allowed: tuple[str, ...], default: str) -> str:
    value = request.args.get(name) or default
    if value not in allowed:
        raise ValidationError(name, _l("Must be one of: %(allowed)s.", allowed=", ".join(allowed)))
    return value


@bp.get("/reports/program")
@managers_only
def program_report():
    """The program report of `fiscal_year` (or `from`–`to`); `format=json|csv|xlsx`.

    CSV takes `part=summary|sessions|learners`: the figures, or the rows behind them.
    """
    period = parse_period(request.args)
    kind = _one_of("format", FORMATS, "json")
    part = _one_of("part", exports.CSV_PARTS, "summary")
    report = service.program_report(period)
    if kind == "json":
        return jsonify(exports.report_json(report))
    if kind == "csv":
        response = Response(
            stream_with_context(exports.csv_lines(report, part)),
            mimetype="text/csv; charset=utf-8",
        )
        name = exports.filename(report, "csv", part)
    else:
        response = Response(exports.xlsx_bytes(report), mimetype=XLSX)
        name = exports.filename(report, "xlsx")
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
