"""The attendance log as CSV (for Excel in Japan) and XLSX, one row per session.

CSV is UTF-8 with a byte-order mark and CRLF line ends: without the BOM, Excel on a Japanese
Windows reads the file as Shift_JIS and the names turn to garbage. Times are in the program's
zone, said in the header; XLSX holds real date-time cells (Excel has no zones: local time).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime

from flask_babel import lazy_gettext as _l
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from tutoring.attendance.labels import outcome_label, status_label
from tutoring.attendance.models import AttendanceStatus
from tutoring.attendance.review import LogRow
from tutoring.attendance.service import Outcome
from tutoring.i18n import program_zone
from tutoring.scheduling.models import Kind, Mode

BOM = "\ufeff"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"


@dataclass(frozen=True)
class Column:
    header: Callable[[str], str]  # given the zone's name
    width: int  # in characters, for XLSX
    is_time: bool = False


def _timed(label) -> Callable[[str], str]:
    return lambda zone: str(_l("%(what)s (%(zone)s)", what=label, zone=zone))


def _plain(label) -> Callable[[str], str]:
    return lambda zone: str(label)


COLUMNS = (
    Column(_plain(_l("Session")), 10),
    Column(_timed(_l("Starts")), 18, is_time=True),
    Column(_timed(_l("Ends")), 18, is_time=True),
    Column(_plain(_l("Kind")), 14),
    Column(_plain(_l("Place")), 20),
    Column(_plain(_l("Learner ID")), 10),
    Column(_plain(_l("Learner")), 18),
    Column(_plain(_l("Learner status")), 14),
    Column(_plain(_l("Learner minutes")), 10),
    Column(_timed(_l("Learner first joined")), 18, is_time=True),
    Column(_timed(_l("Learner last left")), 18, is_time=True),
    Column(_plain(_l("Tutor ID")), 10),
    Column(_plain(_l("Tutor")), 18),
    Column(_plain(_l("Tutor status")), 14),
    Column(_plain(_l("Tutor minutes")), 10),
    Column(_plain(_l("Outcome")), 16),
    Column(_plain(_l("Note")), 40),
)
TIME_COLUMNS = frozenset(i for i, column in enumerate(COLUMNS) if column.is_time)
# Columns holding text people typed (names, venue, note): guarded against formulas.
TYPED_COLUMNS = (4, 6, 12, 16)


class _Words:
    """Every word an export repeats, translated once (a lookup per cell would dominate)."""

    def __init__(self) -> None:
        self.status = {None: status_label(None)} | {
            status: status_label(status) for status in AttendanceStatus
        }
        self.outcome = {outcome: outcome_label(outcome) for outcome in Outcome}
        self.kind = {
            Kind.STUDY: str(_l("Study session")),
            Kind.CONSULTATION: str(_l("Learning consultation")),
        }
        self.online = str(_l("Online"))
        self.in_person = str(_l("In person"))


def _values(row: LogRow, words: _Words) -> list:
    """Return one row's cells, times still aware (the callers write them their way)."""
    learner, tutor = row.learner, row.tutor
    if row.mode is Mode.ONLINE:
        place = words.online
    else:
        place = row.venue_name or words.in_person
    return [
        row.session_id,
        row.starts_at,
        row.ends_at,
        words.kind[row.kind],
        place,
        learner.user_id,
        learner.name,
        words.status[learner.status],
        learner.minutes_present,
        learner.first_joined_at,
        learner.last_left_at,
        tutor.user_id,
        tutor.name,
        words.status[tutor.status],
        tutor.minutes_present,
        words.outcome[row.outcome],
        learner.note or "",
    ]


def headers() -> list[str]:
    zone = program_zone().key
    return [column.header(zone) for column in COLUMNS]


def _defused(value: object) -> object:
    """Return text that Excel will not run as a formula (CSV injection)."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


class _Line:
    """A file-like object holding the last line the csv writer wrote."""

    def __init__(self) -> None:
        self.value = ""

    def write(self, text: str) -> None:
        self.value = text


def csv_lines(rows: Iterable[LogRow]) -> Iterator[str]:
    """Yield the CSV text line by line, the BOM and header first (for a streamed response)."""
    line = _Line()
    writer = csv.writer(line, lineterminator="\r\n")
    writer.writerow(headers())
    yield BOM + line.value
    words, zone = _Words(), program_zone()
    shown: dict[datetime, str] = {}  # sessions share start and end times: format each once

    def local(moment: datetime | None) -> str:
        if moment is None:
            return ""
        text = shown.get(moment)
        if text is None:
            text = shown[moment] = moment.astimezone(zone).strftime("%Y-%m-%d %H:%M")
        return text

    for row in rows:
        values = _values(row, words)
        for index in TIME_COLUMNS:
            values[index] = local(values[index])
        for index in TYPED_COLUMNS:
            values[index] = _defused(values[index])
        writer.writerow(values)
        yield line.value


def xlsx_bytes(rows: Iterable[LogRow], *, title: str) -> bytes:
    """Return the workbook: a bold, frozen header row with filters, local date-time cells."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=title[:31])
    for index, column in enumerate(COLUMNS, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = column.width
    sheet.freeze_panes = "A2"
    bold = Font(bold=True)
    header_cells = []
    for text in headers():
        cell = WriteOnlyCell(sheet, value=text)
        cell.font = bold
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        header_cells.append(cell)
    sheet.append(header_cells)
    words, zone = _Words(), program_zone()
    count = 0
    for row in rows:
        values = _values(row, words)
        for index, value in enumerate(values):
            if index in TIME_COLUMNS:
                # Excel has no zones: the program's wall-clock time, as the header says.
                cell = WriteOnlyCell(
                    sheet, value=value.astimezone(zone).replace(tzinfo=None) if value else None
                )
                cell.number_format = DATETIME_FORMAT
                values[index] = cell
            elif isinstance(value, str) and value.startswith("="):
                # Stored as text: a name or note starting with "=" must not become a formula.
                cell = WriteOnlyCell(sheet, value=value)
                cell.data_type = "s"
                values[index] = cell
        sheet.append(values)
        count += 1
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(COLUMNS))}{count + 1}"
    output = io.BytesIO()
    workbook.save(output)
    return output.getvalue()
