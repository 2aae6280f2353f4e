"""The program report as JSON (the API's shape), CSV (UTF-8 with BOM, for Excel) and XLSX.

The CSV has one part per request (`summary`, `sessions` or `learners`); the workbook holds all
three as sheets, so the figures and the rows behind them travel together.
"""

from __future__ import annotations

import csv
import io
import itertools
from collections.abc import Iterable, Iterator

from flask_babel import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from tutoring.attendance.exports import BOM
from tutoring.attendance.exports import _defused as defused
from tutoring.i18n import program_zone
from tutoring.records.labels import OUTCOMES, STATUSES
from tutoring.reports import service
from tutoring.reports.periods import era_label
from tutoring.reports.service import LearnerFacts, Report, SessionRow
from tutoring.scheduling.models import Kind, Mode

CSV_PARTS = ("summary", "sessions", "learners")


def report_json(report: Report) -> dict:
    """Return the contract's shape of the report, with the documented additions."""
    period = report.period
    return {
        "fiscal_year": period.fiscal_year,
        "label": period.label,
        "era": era_label(period.fiscal_year) if period.fiscal_year is not None else None,
        "from": period.first_day.isoformat(),
        "to": period.last_day.isoformat(),
        "consultations": {
            "total": report.consultations_total,
            "unique_learners": report.consultations_unique,
        },
        "study_sessions": {
            "total": report.study_total,
            "unique_learners": report.study_unique,
            "online": report.online,
            "in_person": report.in_person,
            "online_share": report.online_share,
            "by_venue": [
                {
                    "venue_id": v.venue_id,
                    "name": v.name,
                    "total": v.total,
                    "unique_learners": v.unique_learners,
                }
                for v in report.by_venue
            ],
            "by_month": [
                {
                    "month": m.month.strftime("%Y-%m"),
                    "total": m.total,
                    "online": m.online,
                    "consultations": m.consultations,
                }
                for m in report.by_month
            ],
        },
        "learners": {
            "continuing": report.continuing,
            "new": report.new,
            "active_at_end": report.active_at_end,
            "took_part": report.took_part,
        },
        "exam": {
            "takers": report.takers,
            "passers": report.passers,
            "subject_passers": report.subject_passers,
            "subjects_passed": report.subjects_passed,
            "certificates": report.certificates,
            "by_round": [
                {
                    "round_id": r.round_id,
                    "year": r.year,
                    "number": r.number,
                    "exam_on": r.exam_on.isoformat(),
                    "takers": r.takers,
                    "passers": r.passers,
                    "subject_passers": r.subject_passers,
                    "subjects_passed": r.subjects_passed,
                }
                for r in report.exam_rounds
            ],
            "by_subject": [{"name": name, "passed": n} for name, n in report.subjects],
        },
        "outcomes": {kind.value: n for kind, n in report.outcomes.items()},
        "attendance": {
            "rate": report.attendance_rate,
            "average_minutes": report.average_minutes,
            "settled": report.settled,
            "no_show": report.no_show,
        },
    }


def _percent(value: float | None) -> str:
    return "" if value is None else f"{value * 100:.1f}%"


def summary_rows(report: Report) -> list[tuple[str, str, object]]:
    """Return (section, figure, value) for every figure, in the order of the page."""
    consult, study = _("Learning consultations"), _("Study sessions")
    learners, exam = _("Learners"), _("Exam (高卒認定)")
    outcomes, attendance = _("Outcomes"), _("Attendance")
    rows: list[tuple[str, str, object]] = [
        (_("Period"), _("Report"), report.period.label),
        (_("Period"), _("From"), report.period.first_day.isoformat()),
        (_("Period"), _("To"), report.period.last_day.isoformat()),
        (consult, _("Total held (延べ件数)"), report.consultations_total),
        (consult, _("Learners (実人数)"), report.consultations_unique),
        (study, _("Total held (延べ件数)"), report.study_total),
        (study, _("Learners (実人数)"), report.study_unique),
        (study, _("Online"), report.online),
        (study, _("In person"), report.in_person),
        (study, _("Online share"), _percent(report.online_share)),
    ]
    for venue in report.by_venue:
        rows.append((study, _("Venue: %(name)s", name=venue.name), venue.total))
        rows.append((study, _("Venue: %(name)s, learners", name=venue.name), venue.unique_learners))
    rows += [
        (learners, _("Took part"), report.took_part),
        (learners, _("Continuing from before"), report.continuing),
        (learners, _("Newly registered"), report.new),
        (learners, _("Active at the end"), report.active_at_end),
        (exam, _("Takers"), report.takers),
        (exam, _("Passers (certificate obtained)"), report.passers),
        (exam, _("Learners who passed a subject"), report.subject_passers),
        (exam, _("Subjects passed"), report.subjects_passed),
    ]
    for figure in report.exam_rounds:
        name = _("%(year)d, round %(number)d", year=figure.year, number=figure.number)
        rows.append((exam, _("%(round)s: takers", round=name), figure.takers))
        rows.append((exam, _("%(round)s: passers", round=name), figure.passers))
    for subject, n in report.subjects:
        rows.append((exam, _("Passed: %(subject)s", subject=subject), n))
    rows += [(outcomes, str(OUTCOMES[kind]), n) for kind, n in report.outcomes.items()]
    rows += [
        (attendance, _("Attendance rate"), _percent(report.attendance_rate)),
        (
            attendance,
            _("Average minutes per session"),
            "" if report.average_minutes is None else report.average_minutes,
        ),
    ]
    return rows


def _yes(value: bool) -> str:
    return _("Yes") if value else ""


def learner_headers() -> list[str]:
    return [
        _("Learner ID"),
        _("Learner"),
        _("Erased"),
        _("Joined on"),
        _("Took part"),
        _("Continuing from before"),
        _("Newly registered"),
        _("Active at the end"),
        _("Status at the end"),
        _("Study sessions"),
        _("Learning consultations"),
        _("Exam rounds sat"),
        _("Subjects passed"),
        _("Certificate obtained"),
        _("Outcomes"),
    ]


def learner_values(facts: LearnerFacts) -> list:
    return [
        facts.learner_id,
        facts.name,
        _yes(facts.erased),
        facts.joined_on.isoformat() if facts.joined_on else "",
        _yes(facts.took_part),
        _yes(facts.continuing),
        _yes(facts.new),
        _yes(facts.active_at_end),
        str(STATUSES[facts.status_at_end]) if facts.status_at_end else "",
        facts.study_sessions,
        facts.consultations,
        facts.exam_rounds,
        facts.subjects_passed,
        _yes(facts.certificate),
        "、".join(str(OUTCOMES[kind]) for kind in sorted(facts.outcomes)),
    ]


def session_headers() -> list[str]:
    zone = program_zone().key
    return [
        _("Session"),
        _("%(what)s (%(zone)s)", what=_("Starts"), zone=zone),
        _("Kind"),
        _("Place"),
        _("Learner ID"),
        _("Learner"),
        _("Tutor"),
        _("Minutes"),
    ]


def session_rows(rows: Iterable[SessionRow]) -> Iterator[list]:
    """Yield the cells of held sessions; words and times are translated and formatted once."""
    zone = program_zone()
    online, in_person = _("Online"), _("In person")
    kinds = {Kind.STUDY: _("Study session"), Kind.CONSULTATION: _("Learning consultation")}
    shown: dict = {}  # sessions share start times: format each once
    for row in rows:
        starts = shown.get(row.starts_at)
        if starts is None:
            starts = shown[row.starts_at] = row.starts_at.astimezone(zone).strftime(
                "%Y-%m-%d %H:%M"
            )
        booked = int((row.ends_at - row.starts_at).total_seconds() // 60)
        yield [
            row.session_id,
            starts,
            kinds[row.kind],
            online if row.mode is Mode.ONLINE else (row.venue_name or in_person),
            row.learner_id,
            row.learner_name,
            row.tutor_name,
            row.minutes_present or booked,
        ]


def _learners(report: Report) -> list[LearnerFacts]:
    return sorted(report.learners.values(), key=lambda f: f.learner_id)


def _csv(rows: Iterable[list]) -> Iterator[str]:
    """Yield the BOM, then the rows as CSV text in blocks (a streamed response)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    yield BOM
    for number, row in enumerate(rows, start=1):
        writer.writerow([defused(value) for value in row])
        if number % 500 == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def csv_lines(report: Report, part: str) -> Iterator[str]:
    """Yield one part of the report as CSV lines, the BOM first."""
    if part == "sessions":
        rows = session_rows(service.held_sessions(report.period))
        return _csv(itertools.chain([session_headers()], rows))
    if part == "learners":
        return _csv([learner_headers()] + [learner_values(f) for f in _learners(report)])
    return _csv([[_("Section"), _("Figure"), _("Value")]] + [list(r) for r in summary_rows(report)])


def _sheet(workbook: Workbook, title: str, headers: list[str], rows: Iterable[list], widths):
    sheet = workbook.create_sheet(title=title[:31])
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "A2"
    bold = Font(bold=True)
    cells = []
    for text in headers:
        cell = WriteOnlyCell(sheet, value=text)
        cell.font = bold
        cells.append(cell)
    sheet.append(cells)
    for row in rows:
        values = []
        for value in row:
            if isinstance(value, str) and value.startswith("="):
                cell = WriteOnlyCell(sheet, value=value)
                cell.data_type = "s"  # text that looks like a formula stays text
                value = cell
            values.append(value)
        sheet.append(values)


def xlsx_bytes(report: Report) -> bytes:
    """Return the workbook: the figures, the learners behind them, the held sessions."""
    workbook = Workbook(write_only=True)
    _sheet(
        workbook,
        _("Report"),
        [_("Section"), _("Figure"), _("Value")],
        (list(r) for r in summary_rows(report)),
        (24, 40, 24),
    )
    _sheet(
        workbook,
        _("Learners"),
        learner_headers(),
        (learner_values(f) for f in _learners(report)),
        (10, 18, 8, 12, 10, 10, 10, 10, 12, 10, 10, 10, 10, 10, 30),
    )
    _sheet(
        workbook,
        _("Sessions"),
        session_headers(),
        session_rows(service.held_sessions(report.period)),
        (10, 18, 14, 20, 10, 18, 18, 10),
    )
    output = io.BytesIO()
    workbook.save(output)
    return output.getvalue()


def filename(report: Report, extension: str, part: str = "") -> str:
    period = report.period
    span = (
        f"fy{period.fiscal_year}"
        if period.fiscal_year is not None
        else f"{period.first_day.isoformat()}_{period.last_day.isoformat()}"
    )
    suffix = f"-{part}" if part and part != "summary" else ""
    return f"program-report-{span}{suffix}.{extension}"
