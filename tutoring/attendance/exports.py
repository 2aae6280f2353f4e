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
from tutoring.attendance.review import LogRow
from tutoring.i18n import program_zone

BOM = "\ufeff"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"


@dataclass(frozen=True)
class Column:
    header: Callable[[str], str]  # given the zone's name
    width: int  # in characters, for XLSX
    value: Callable[[LogRow], object]
    is_time: bool = False


def _kind(row: LogRow) -> str:
    return str(_l("Study session") if row.kind.value == "study" else _l("Learning consultation"))


def _place(row: LogRow) -> str:
    if row.mode.value == "online":
        return str(_l("Online"))
    return row.venue_name or str(_l("In person"))


def _timed(label) -> Callable[[str], str]:
    return lambda zone: str(_l("%(what)s (%(zone)s)", what=label, zone=zone))


def _plain(label) -> Callable[[str], str]:
    return lambda zone: str(label)


COLUMNS = (
    Column(_plain(_l("Session")), 10, lambda r: r.session_id),
    Column(_timed(_l("Starts")), 18, lambda r: r.starts_at, is_time=True),
    Column(_timed(_l("Ends")), 18, lambda r: r.ends_at, is_time=True),
    Column(_plain(_l("Kind")), 14, _kind),
    Column(_plain(_l("Place")), 20, _place),
    Column(_plain(_l("Learner ID")), 10, lambda r: r.learner.user_id),
    Column(_plain(_l("Learner")), 18, lambda r: r.learner.name),
    Column(_plain(_l("Learner status")), 14, lambda r: status_label(r.learner.status)),
    Column(_plain(_l("Learner minutes")), 10, lambda r: r.learner.minutes_present),
    Column(_timed(_l("Learner first joined")), 18, lambda r: r.learner.first_joined_at, True),
    Column(_timed(_l("Learner last left")), 18, lambda r: r.learner.last_left_at, True),
    Column(_plain(_l("Tutor ID")), 10, lambda r: r.tutor.user_id),
    Column(_plain(_l("Tutor")), 18, lambda r: r.tutor.name),
    Column(_plain(_l("Tutor status")), 14, lambda r: status_label(r.tutor.status)),
    Column(_plain(_l("Tutor minutes")), 10, lambda r: r.tutor.minutes_present),
    Column(_plain(_l("Outcome")), 16, lambda r: outcome_label(r.outcome)),
    Column(_plain(_l("Note")), 40, lambda r: r.learner.note or ""),
)


def headers() -> list[str]:
    zone = program_zone().key
    return [column.header(zone) for column in COLUMNS]


def _local(moment: datetime | None) -> datetime | None:
    return moment.astimezone(program_zone()) if moment else None


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
    for row in rows:
        values = []
        for column in COLUMNS:
            value = column.value(row)
            if column.is_time:
                value = _local(value).strftime("%Y-%m-%d %H:%M") if value else ""
            values.append(_defused("" if value is None else value))
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
    count = 0
    for row in rows:
        values = []
        for column in COLUMNS:
            value = column.value(row)
            if column.is_time:
                local = _local(value)
                cell = WriteOnlyCell(sheet, value=local.replace(tzinfo=None) if local else None)
                cell.number_format = DATETIME_FORMAT
                values.append(cell)
            elif isinstance(value, str) and value.startswith("="):
                # Stored as text: a name or note starting with "=" must not become a formula.
                cell = WriteOnlyCell(sheet, value=value)
                cell.data_type = "s"
                values.append(cell)
            else:
                values.append(value)
        sheet.append(values)
        count += 1
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(COLUMNS))}{count + 1}"
    output = io.BytesIO()
    workbook.save(output)
    return output.getvalue()
