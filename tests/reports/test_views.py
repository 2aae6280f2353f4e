"""The report page, the lists behind its figures, the API and its exports."""

from __future__ import annotations

import csv
import io

import pytest
from openpyxl import load_workbook

from tests.conftest import bearer


def api_get(client, make_token, account, query: str):
    return client.get(f"/api/v1/reports/program?{query}", headers=bearer(make_token(account)))


def test_the_api_answers_the_contract_shape(client, make_token, published_case):
    response = api_get(client, make_token, published_case.coordinator, "fiscal_year=2025")
    assert response.status_code == 200
    body = response.get_json()
    assert body["fiscal_year"] == 2025
    assert body["from"] == "2025-04-01"
    assert body["to"] == "2026-03-31"
    assert body["era"] == "令和7年度"
    assert body["consultations"] == {"total": 28, "unique_learners": 28}
    study = body["study_sessions"]
    assert (study["total"], study["unique_learners"], study["online"]) == (219, 45, 25)
    assert len(study["by_venue"]) == 7
    assert sum(v["total"] for v in study["by_venue"]) + study["online"] == 219
    assert set(study["by_venue"][0]) >= {"venue_id", "name", "total"}
    assert len(study["by_month"]) == 12
    assert body["learners"] == {"continuing": 20, "new": 25, "active_at_end": 43, "took_part": 45}
    assert (body["exam"]["takers"], body["exam"]["passers"]) == (25, 13)
    assert body["exam"]["certificates"] == 13
    assert [r["takers"] for r in body["exam"]["by_round"]] == [5, 25]
    assert body["outcomes"] == {
        "employment_regular": 3,
        "employment_non_regular": 0,
        "employment_welfare": 3,
        "further_education": 3,
        "return_to_school": 0,
        "job_seeking": 4,
        "referral": 0,
        "support_ended": 0,
    }
    assert body["attendance"]["rate"] == pytest.approx(0.8295, abs=1e-4)
    assert body["attendance"]["average_minutes"] == 120.0


def test_csv_exports_read_back(client, make_token, published_case):
    token = make_token(published_case.coordinator)
    base = "/api/v1/reports/program?fiscal_year=2025&format=csv"
    response = client.get(base, headers=bearer(token))
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert 'filename="program-report-fy2025.csv"' in response.headers["Content-Disposition"]
    data = response.get_data()
    assert data.startswith(b"\xef\xbb\xbf")  # Excel on Japanese Windows reads UTF-8
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert rows[0] == ["Section", "Figure", "Value"]
    figures = {(row[0], row[1]): row[2] for row in rows[1:]}
    assert figures[("Study sessions", "Total held (延べ件数)")] == "219"
    assert figures[("Learners", "Continuing from before")] == "20"
    assert figures[("Exam (高卒認定)", "Passers (certificate obtained)")] == "13"
    assert figures[("Outcomes", "Job seeking")] == "4"

    learners = client.get(base + "&part=learners", headers=bearer(token))
    rows = list(csv.DictReader(io.StringIO(learners.get_data().decode("utf-8-sig"), newline="")))
    assert sum(1 for row in rows if row["Took part"] == "Yes") == 45
    assert sum(1 for row in rows if row["Continuing from before"] == "Yes") == 20
    assert sum(1 for row in rows if row["Certificate obtained"] == "Yes") == 13
    erased = [row for row in rows if row["Erased"] == "Yes"]
    assert len(erased) == 1
    assert erased[0]["Learner"].startswith("anon-")

    sessions = client.get(base + "&part=sessions", headers=bearer(token))
    rows = list(csv.reader(io.StringIO(sessions.get_data().decode("utf-8-sig"), newline="")))
    assert rows[0][1] == "Starts (Asia/Tokyo)"
    kinds = [row[2] for row in rows[1:]]
    assert kinds.count("Study session") == 219
    assert kinds.count("Learning consultation") == 25


def test_xlsx_holds_the_figures_and_the_rows_behind_them(client, make_token, published_case):
    response = api_get(
        client, make_token, published_case.coordinator, "fiscal_year=2025&format=xlsx"
    )
    assert response.status_code == 200
    workbook = load_workbook(io.BytesIO(response.get_data()), read_only=True)
    assert workbook.sheetnames == ["Report", "Learners", "Sessions"]
    figures = {
        (row[0], row[1]): row[2]
        for row in workbook["Report"].iter_rows(min_row=2, values_only=True)
    }
    assert figures[("Study sessions", "Online")] == 25
    assert figures[("Learners", "Newly registered")] == 25
    learners = list(workbook["Learners"].iter_rows(min_row=2, values_only=True))
    assert sum(1 for row in learners if row[6] == "Yes") == 25  # newly registered
    sessions = list(workbook["Sessions"].iter_rows(min_row=2, values_only=True))
    assert len(sessions) == 219 + 25


def test_a_date_range_report(client, make_token, published_case):
    response = api_get(
        client, make_token, published_case.coordinator, "from=2025-04-01&to=2025-04-30"
    )
    body = response.get_json()
    assert response.status_code == 200
    assert body["fiscal_year"] is None
    assert body["study_sessions"]["total"] == 111
    assert [m["month"] for m in body["study_sessions"]["by_month"]] == ["2025-04"]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("fiscal_year=abc", "fiscal_year"),
        ("fiscal_year=99999", "fiscal_year"),
        ("fiscal_year=2025&format=pdf", "format"),
        ("fiscal_year=2025&format=csv&part=notes", "part"),
        ("from=2025-06-01&to=2025-05-01", "to"),
        ("from=2025-06-31&to=2025-07-01", "from"),
    ],
)
def test_bad_queries_answer_400_naming_the_field(client, make_token, program, query, field):
    response = api_get(client, make_token, program.coordinator, query)
    assert response.status_code == 400
    assert response.get_json()["error"]["field"] == field


def test_only_coordinators_and_admins_get_the_report(client, make_token, program, make_user):
    admin = make_user("admin")
    for account, status in (
        (program.learner, 403),
        (program.tutor, 403),
        (program.coordinator, 200),
        (admin, 200),
    ):
        for fmt in ("json", "csv", "xlsx"):
            response = api_get(client, make_token, account, f"fiscal_year=2025&format={fmt}")
            assert response.status_code == status, (account.role, fmt)
    assert client.get("/api/v1/reports/program").status_code == 401


@pytest.mark.parametrize(
    "path",
    [
        "/reports/program",
        "/reports/program/learners?figure=continuing",
        "/reports/program/sessions?kind=study",
    ],
)
def test_pages_refuse_learners_and_tutors(client, login_as, program, path):
    assert client.get(path).status_code == 302  # to the sign-in page
    for account in (program.learner, program.tutor):
        login_as(account)
        assert client.get(path).status_code == 403


def test_the_page_shows_the_year_with_links_to_every_list(client, login_as, published_case):
    login_as(published_case.coordinator)
    response = client.get("/reports/program?fiscal_year=2025")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "FY2025 (令和7年度)" in html
    assert "/reports/program/learners?figure=continuing&amp;fiscal_year=2025" in html
    assert "/api/v1/reports/program?format=xlsx&amp;fiscal_year=2025" in html
    assert 'role="img"' in html  # the charts, each titled and described
    assert html.count("<svg") >= 3
    for figure in ("took_part", "continuing", "new", "active_at_end", "sat_exam", "certificate"):
        page = client.get(f"/reports/program/learners?figure={figure}&fiscal_year=2025")
        assert page.status_code == 200, figure
    page = client.get("/reports/program/learners?figure=outcome:job_seeking&fiscal_year=2025")
    assert "4 learners" in page.get_data(as_text=True)
    page = client.get("/reports/program/sessions?kind=study&mode=online&fiscal_year=2025")
    assert "25 sessions" in page.get_data(as_text=True)
    page = client.get("/reports/program/sessions?kind=study&fiscal_year=2025&page=2")
    text = page.get_data(as_text=True)
    assert "219 sessions" in text
    assert "page 2 of 2" in text


def test_the_page_defaults_to_the_current_fiscal_year(client, login_as, program):
    from tutoring.reports.periods import current_fiscal_year

    login_as(program.coordinator)
    with client.application.app_context():
        year = current_fiscal_year()
    html = client.get("/reports/program").get_data(as_text=True)
    assert f"FY{year} " in html


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("fiscal_year=abc", "Give a year such as 2025."),
        ("from=2025-06-01&to=2025-05-01", "Must not be before"),
    ],
)
def test_the_page_explains_a_bad_period(client, login_as, program, query, message):
    login_as(program.coordinator)
    response = client.get(f"/reports/program?{query}")
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "query",
    ["figure=everything", "figure=outcome:lottery", "figure=new&fiscal_year=abc"],
)
def test_the_learner_list_refuses_bad_figures(client, login_as, program, query):
    login_as(program.coordinator)
    assert client.get(f"/reports/program/learners?{query}").status_code == 400


@pytest.mark.parametrize("query", ["kind=lesson", "mode=phone", "venue_id=x", "page=0x"])
def test_the_session_list_refuses_bad_filters(client, login_as, program, query):
    login_as(program.coordinator)
    assert client.get(f"/reports/program/sessions?{query}").status_code == 400
