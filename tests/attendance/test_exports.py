"""Exports read back: CSV as Excel in Japan needs it, XLSX with real local date-time cells."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta

import openpyxl
import pytest

from tests.attendance.conftest import TOKYO, bearer
from tutoring.extensions import db
from tutoring.people.models import User
from tutoring.scheduling.models import TutoringSession

EN = {"Accept-Language": "en"}


def export(client, token, fmt, **query):
    return client.get(
        "/api/v1/attendance",
        query_string={"format": fmt, **query},
        headers={**bearer(token), **EN},
    )


def test_csv_has_a_bom_crlf_a_header_and_japanese_names_intact(client, tokens, history):
    response = export(client, tokens["coordinator"], "csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"].startswith("attachment; filename=")
    raw = response.get_data()
    assert raw.startswith(b"\xef\xbb\xbf")  # the BOM that makes Excel read UTF-8
    assert b"\r\n" in raw
    assert b"\n" not in raw.replace(b"\r\n", b"")  # every line ends CRLF
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline="")))
    header, body = rows[0], rows[1:]
    assert header[:3] == ["Session", "Starts (Asia/Tokyo)", "Ends (Asia/Tokyo)"]
    assert "Learner status" in header
    assert len(body) == 9
    column = {name: index for index, name in enumerate(header)}
    names = {row[column["Learner"]] for row in body}
    assert names == {"田中 陽向", "伊藤 蓮"}
    assert {row[column["Tutor"]] for row in body} == {"鈴木 健一", "高橋 美咲"}
    by_id = {int(row[0]): row for row in body}
    late = by_id[history.learner_sessions[1]]
    assert late[column["Learner status"]] == "Late"
    assert late[column["Learner minutes"]] == "105"
    assert late[column["Outcome"]] == "Held"
    missed = by_id[history.learner_sessions[-1]]
    assert missed[column["Learner status"]] == "Absent"
    assert missed[column["Outcome"]] == "Learner no-show"
    in_person = by_id[history.other_sessions[0]]
    assert in_person[column["Place"]] == "中央公民館"
    # Times are local, as written in the header.
    with client.application.app_context():
        starts = db.session.get(TutoringSession, history.learner_sessions[1]).starts_at
    assert late[column["Starts (Asia/Tokyo)"]] == starts.astimezone(TOKYO).strftime(
        "%Y-%m-%d %H:%M"
    )


def test_csv_headers_follow_the_language(client, tokens, history):
    response = client.get(
        "/api/v1/attendance?format=csv",
        headers={**bearer(tokens["coordinator"]), "Accept-Language": "ja"},
    )
    header = next(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig"))))
    assert "学習者" in header  # a string the Japanese catalogue has


def test_csv_takes_the_same_filters(client, program, tokens, history):
    response = export(client, tokens["coordinator"], "csv", learner_id=program.other_learner.id)
    rows = list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig"))))
    assert {int(row[0]) for row in rows[1:]} == set(history.other_sessions)
    tutor = export(client, tokens["tutor"], "csv")
    rows = list(csv.reader(io.StringIO(tutor.get_data().decode("utf-8-sig"))))
    assert {int(row[0]) for row in rows[1:]} == set(history.learner_sessions)


def test_formulas_in_names_are_not_run_by_excel(app, client, program, tokens, history):
    with app.app_context():
        db.session.get(User, program.learner.id).name = "=HYPERLINK(1)"
        db.session.commit()
    rows = list(
        csv.reader(
            io.StringIO(export(client, tokens["coordinator"], "csv").get_data().decode("utf-8-sig"))
        )
    )
    assert "'=HYPERLINK(1)" in {row[6] for row in rows}
    book = openpyxl.load_workbook(io.BytesIO(export(client, tokens["coordinator"], "xlsx").data))
    cells = [row[6] for row in book.active.iter_rows(min_row=2)]
    assert {(c.value, c.data_type) for c in cells if c.value.startswith("=")} == {
        ("=HYPERLINK(1)", "s")
    }


def test_xlsx_has_a_header_local_date_times_and_widths(client, tokens, history):
    response = export(client, tokens["coordinator"], "xlsx")
    assert response.status_code == 200
    assert response.mimetype == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    book = openpyxl.load_workbook(io.BytesIO(response.data))
    sheet = book.active
    assert sheet.title == "Attendance"
    header = [cell.value for cell in sheet[1]]
    assert header[:3] == ["Session", "Starts (Asia/Tokyo)", "Ends (Asia/Tokyo)"]
    assert all(cell.font.bold for cell in sheet[1])
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == f"A1:Q{sheet.max_row}"
    assert sheet.column_dimensions["B"].width == pytest.approx(18, abs=1)
    assert sheet.column_dimensions["Q"].width == pytest.approx(40, abs=1)
    assert sheet.max_row == 10
    rows = {row[0].value: row for row in sheet.iter_rows(min_row=2)}
    session_id = history.learner_sessions[1]
    row = rows[session_id]
    assert isinstance(row[0].value, int)
    starts = row[1]
    assert isinstance(starts.value, datetime)
    assert starts.is_date
    assert starts.number_format == "yyyy-mm-dd hh:mm"
    with client.application.app_context():
        expected = db.session.get(TutoringSession, session_id).starts_at.astimezone(TOKYO)
    assert starts.value == expected.replace(tzinfo=None)  # Tokyo wall-clock time
    assert row[6].value == "田中 陽向"
    assert row[7].value == "Late"
    assert row[8].value == 105  # minutes are numbers
    assert row[9].value == (expected + timedelta(minutes=15)).replace(tzinfo=None)
    assert row[9].is_date


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_exports_are_for_staff(client, tokens, fmt):
    assert export(client, tokens["learner"], fmt).status_code == 403


def test_page_links_export_with_the_page_filters(client, login_as, program, history):
    login_as(program.coordinator)
    page = client.get(f"/attendance?learner_id={program.learner.id}").get_data(as_text=True)
    link = page.split('href="/api/v1/attendance?format=csv')[1].split('"')[0].replace("&amp;", "&")
    response = client.get("/api/v1/attendance?format=csv" + link)
    rows = list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig"))))
    assert {int(row[0]) for row in rows[1:]} == set(history.learner_sessions)
