"""Markup typed into learner records, notes, attendance and messages is shown as text.

tests/test_xss.py covers names, reasons and places; this sweep stores payloads in every
free-text field of the records and notes and reads every page that shows them. Markdown
bodies are rendered to HTML and sanitised by nh3: nothing active may survive. Exports
(CSV, XLSX) must not turn typed text into spreadsheet formulas.
"""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from html.parser import HTMLParser

import pytest
from openpyxl import load_workbook

from tests.conftest import bearer
from tutoring.database import utcnow
from tutoring.extensions import db

PAYLOADS = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "'><svg/onload=alert(1)>",
]
# Markdown that tries to smuggle active content through the renderer.
MARKDOWN = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "[click](&#106;avascript:alert(1))",
    "![x](javascript:alert(1))",
    '<a href="javascript:alert(1)">x</a>',
    "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "<iframe src=//evil.example></iframe>",
    '[x](https://ok.example "title" onmouseover=alert(1))',
]


class ActiveParts(HTMLParser):
    """Collect what a browser would run in HTML: scripts, frames, handlers, odd URL schemes."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "iframe", "object", "embed", "img", "svg", "style", "form"):
            self.found.append(f"<{tag}>")
        for name, value in attrs:
            if name.startswith("on") or name in ("style", "srcdoc"):
                self.found.append(f"{tag} {name}=")
            scheme = (value or "").strip().split(":", 1)[0].lower() if ":" in (value or "") else ""
            if name in ("href", "src") and scheme not in ("", "http", "https", "mailto"):
                self.found.append(f"{tag} {name}={value}")


def active_parts(html: str) -> list[str]:
    parser = ActiveParts()
    parser.feed(html)
    return parser.found


# Free-text columns of the records kept by the world of tests/matrix.py: {item kind: columns}.
RECORD_TEXT = {
    "consultations": ("own_words", "notes"),
    "goals": ("text",),
    "plan": ("materials", "plan"),
    "outcomes": ("note",),
    "consent": ("given_by",),
    "notes": ("subject", "material", "pages", "homework", "next_steps"),
    "reviews": ("participants", "situation", "decisions"),
}


def _models():
    from tutoring.notes.models import CaseReview, StudyNote
    from tutoring.records import models as r

    return {
        "consultations": r.Consultation,
        "goals": r.Goal,
        "plan": r.PlanItem,
        "outcomes": r.Outcome,
        "consent": r.GuardianConsent,
        "notes": StudyNote,
        "reviews": CaseReview,
    }


def _store(app, world, payload: str) -> None:
    """Write the payload into every free-text field of the world's records."""
    from tutoring.people.models import LearnerProfile
    from tutoring.records.models import ExamSubject

    learner_id = world["values"]["learner_id"]
    with app.app_context():
        for kind, model in _models().items():
            item = db.session.get(model, world["values"]["items"][kind])
            for column in RECORD_TEXT[kind]:
                limit = getattr(model.__table__.c[column].type, "length", None)
                setattr(item, column, payload[:limit] if limit else payload)
        subject = db.session.get(ExamSubject, world["values"]["subject_id"])
        subject.name = payload[:50]
        profile = db.session.get(LearnerProfile, learner_id) or LearnerProfile(user_id=learner_id)
        profile.furigana, profile.contact_detail = payload, payload
        db.session.add(profile)
        db.session.commit()


def _pages(world) -> dict[str, list[str]]:
    v = world["values"]
    learner, items = v["learner_id"], v["items"]
    base = f"/learners/{learner}"
    staff = [
        "/",
        "/learners",
        base,
        f"{base}/notes",
        f"{base}/notes/{v['note_id']}",
        f"{base}/notes/{v['note_id']}/edit",
        f"{base}/reviews/{v['review_id']}",
        "/reviews",
        f"{base}/exams",
        f"{base}/exams/{items['exams']}",
        f"{base}/goals/{items['goals']}",
        f"{base}/plan/{items['plan']}",
        f"{base}/consultations/{items['consultations']}",
        f"{base}/consent",
        f"{base}/profile",
        "/subjects",
        "/exam-rounds",
        f"/sessions/{v['session_id']}",
        f"/sessions/{v['session_id']}/room",
        "/attendance",
        "/attendance/learners",
        "/notifications/log",
    ]
    return {
        "admin": [*staff, f"/admin/learners/{learner}/export", "/admin/audit"],
        "tutor": ["/", base, f"{base}/notes", f"/sessions/{v['session_id']}"],
        "learner": ["/", "/my/record", "/attendance/me"],
    }


@pytest.mark.parametrize("payload", PAYLOADS)
def test_record_and_note_fields_are_escaped_on_every_page(
    app, world, login_as, make_token, payload
):
    from tutoring.notify.models import Channel, MessageKind, MessageStatus, OutboxMessage

    _store(app, world, payload)
    v, people = world["values"], world["people"]
    token = make_token(people["coordinator"])
    # Attendance notes and shared notes through the API, as the app stores them.
    response = app.test_client().put(
        f"/api/v1/sessions/{v['session_id']}/attendance/{v['learner_id']}",
        json={"status": "late", "note": payload},
        headers=bearer(token),
    )
    assert response.status_code == 200, response.json
    response = app.test_client().post(
        f"/api/v1/learners/{v['learner_id']}/notes",
        json={
            "subject": payload[:50],
            "body": payload,
            "homework": payload,
            "visibility": "learner",
        },
        headers=bearer(token),
    )
    assert response.status_code == 201, response.json
    with app.app_context():  # a delivery that failed with a message echoing the payload
        now = utcnow()
        db.session.add(
            OutboxMessage(
                dedupe_key=f"xss:{payload}"[:200],
                kind=list(MessageKind)[0],
                channel=Channel.EMAIL,
                recipient_id=v["learner_id"],
                session_id=v["session_id"],
                status=list(MessageStatus)[-1],
                due_at=now,
                next_attempt_at=now,
                error=payload,
            )
        )
        db.session.commit()
    shown = 0
    for role, paths in _pages(world).items():
        client = login_as(people[role], app.test_client())
        for path in paths:
            response = client.get(path)
            assert response.status_code == 200, f"{path} as {role}: {response.status_code}"
            html = response.get_data(as_text=True)
            assert payload not in html, f"{path} as {role} shows raw markup"
            shown += html.count("alert(1)")
    assert shown > 20  # the payloads were on the pages, as text


def test_markdown_bodies_keep_nothing_active(app, world, login_as, make_token):
    v, people = world["values"], world["people"]
    token = make_token(people["tutor"])
    learner_client = login_as(people["learner"], app.test_client())
    for source in MARKDOWN:
        body = f"前置き\n\n{source}\n\n{source.replace('(', '( ')}"
        created = app.test_client().post(
            f"/api/v1/learners/{v['learner_id']}/notes",
            json={"subject": "数学", "body": body, "visibility": "learner"},
            headers=bearer(token),
        )
        assert created.status_code == 201, created.json
        html = created.json["body_html"]
        assert active_parts(html) == [], f"{source!r} became {html}"
        assert "<script" not in html.lower()
        page = learner_client.get("/my/record")  # where a learner reads shared notes
        shown = page.get_data(as_text=True).lower()
        assert page.status_code == 200
        assert "前置き" in shown
        for active in ("<script>alert", "<img src=x", '<a href="javascript:', "<iframe src"):
            assert active not in shown, f"{source!r} on the page: {active}"
    # Ordinary links still work: sanitising did not simply drop every link.
    created = app.test_client().post(
        f"/api/v1/learners/{v['learner_id']}/notes",
        json={
            "subject": "数学",
            "body": "[教科書](https://example.org/p)",
            "visibility": "learner",
        },
        headers=bearer(token),
    )
    assert 'href="https://example.org/p"' in created.json["body_html"]


FORMULAS = ['=HYPERLINK("http://evil.example","x")', "+1+1", "-1+1", "@SUM(1)", "\t=1", "\r=1"]


@pytest.mark.parametrize("formula", FORMULAS)
def test_exports_do_not_turn_typed_text_into_formulas(app, program, book, make_token, formula):
    from tutoring.people.models import User
    from tutoring.scheduling.models import Venue

    [session_id] = book(utcnow() - timedelta(days=1), venue_id=program.venue_id)
    with app.app_context():
        db.session.get(User, program.learner.id).name = formula
        db.session.get(User, program.tutor.id).name = formula
        db.session.get(Venue, program.venue_id).name = formula
        db.session.commit()
    client, headers = app.test_client(), bearer(make_token(program.coordinator))
    client.put(
        f"/api/v1/sessions/{session_id}/attendance/{program.learner.id}",
        json={"status": "late", "note": formula},
        headers=headers,
    )
    csv_text = client.get("/api/v1/attendance?format=csv", headers=headers).get_data(as_text=True)
    rows = list(csv.reader(io.StringIO(csv_text.lstrip("\ufeff"))))
    typed = [cell for row in rows[1:] for cell in row if formula.strip() in cell]
    assert len(typed) >= 3  # names and the note (the place shows "online" or the venue)
    for cell in typed:
        assert cell.startswith("'"), f"CSV cell {cell!r} would be a formula"
    data = client.get("/api/v1/attendance?format=xlsx", headers=headers).data
    sheet = load_workbook(io.BytesIO(data)).active
    cells = [
        cell
        for row in sheet.iter_rows(min_row=2)
        for cell in row
        if str(cell.value).strip() == formula.strip()  # the note is stored stripped
    ]
    assert len(cells) >= 3
    for cell in cells:
        assert cell.data_type == "s", f"XLSX cell {cell.coordinate} is a {cell.data_type}"


def test_browser_code_puts_no_data_into_html():
    """What the server sends as data (whiteboard text, names) reaches the page as text only.

    Whiteboard text items are drawn on the canvas, never rendered by the server; this keeps
    the browser code from growing an HTML sink that would undo the escaping above.
    """
    from tests.conftest import ROOT

    sinks = (
        "innerHTML",
        "outerHTML",
        "insertAdjacentHTML",
        "document.write",
        "createContextualFragment",
    )
    sources = sorted((ROOT / "static" / "src").rglob("*.js"))
    assert len(sources) > 5
    found = [
        f"{path.relative_to(ROOT)}: {sink}"
        for path in sources
        for sink in sinks
        if sink in path.read_text()
    ]
    assert found == []
