"""Attendance in Chromium: the coordinator's review and CSV download, a learner's history on a
phone, one-tap marking on the session page, and the room page's heartbeat."""

from __future__ import annotations

import csv
import io
import re
import time
from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.browser.conftest import (
    DESKTOP,
    PHONE,
    check_accessibility,
    no_horizontal_scroll,
    screenshot,
)
from tutoring.attendance.models import PresenceEvent
from tutoring.database import utcnow
from tutoring.extensions import db
from tutoring.scheduling.models import Mode, Status, TutoringSession

pytestmark = pytest.mark.browser
# The new strings are translated by the merger; the English interface is stable meanwhile.
LOCALE = "en-US"


@pytest.fixture
def app_config():
    return {"JITSI_DOMAIN": "127.0.0.1:9", "JITSI_LOAD_TIMEOUT": 1}


def sign_in(page, base_url, account):
    page.goto(f"{base_url}/login")
    page.get_by_label("E-mail or login name").fill(account.email)
    page.get_by_label("Password").fill(account.password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base_url}/")


def test_coordinator_filters_the_log_and_downloads_the_csv(live_server, new_page, program, history):
    page = new_page(viewport=DESKTOP, locale=LOCALE, accept_downloads=True)
    sign_in(page, live_server, program.coordinator)
    page.get_by_role("link", name="Attendance", exact=True).click()
    page.wait_for_url(f"{live_server}/attendance")
    assert page.get_by_role("heading", name="Early warnings").is_visible()
    assert page.get_by_text("9 sessions").is_visible()
    check_accessibility(page)
    screenshot(page, "attendance-review-desktop")

    # A select inside its label is named by the label and its chosen option: "Learner All".
    page.get_by_role("combobox", name=re.compile("^Learner")).select_option(label="田中 陽向")
    page.get_by_role("combobox", name=re.compile("^Status")).select_option(label="Absent")
    page.get_by_role("button", name="Filter").click()
    page.wait_for_url("**/attendance?*status=absent*")
    assert page.get_by_text("2 sessions").is_visible()
    log = page.get_by_role("table", name="Attendance log")
    assert log.locator("tbody tr").count() == 2
    assert "伊藤 蓮" not in log.inner_text()
    screenshot(page, "attendance-review-filtered")

    with page.expect_download() as download:
        page.get_by_role("link", name="Download CSV (Excel)").click()
    data = download.value.path().read_bytes()
    assert download.value.suggested_filename.endswith(".csv")
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert len(rows) == 3  # the header and the two absences
    assert {row[6] for row in rows[1:]} == {"田中 陽向"}
    assert {row[7] for row in rows[1:]} == {"Absent"}


def test_review_on_a_phone_keeps_to_the_screen(live_server, new_page, program, history):
    page = new_page(viewport=PHONE, locale=LOCALE, is_mobile=True, has_touch=True)
    sign_in(page, live_server, program.coordinator)
    page.goto(f"{live_server}/attendance/learners?sort=rate")
    assert page.get_by_role("table", name="Attendance by learner").is_visible()
    assert no_horizontal_scroll(page)
    check_accessibility(page)
    screenshot(page, "attendance-learners-phone")


def test_learner_reads_their_own_history_on_a_phone(live_server, new_page, program, history):
    page = new_page(viewport=PHONE, locale=LOCALE, is_mobile=True, has_touch=True)
    sign_in(page, live_server, program.learner)
    page.get_by_role("button", name="Menu").tap()
    page.get_by_role("link", name="My attendance").tap()
    page.wait_for_url(f"{live_server}/attendance/me")
    assert page.get_by_role("heading", name="My attendance").is_visible()
    sessions = page.locator(".own-session")
    assert sessions.count() == 6
    assert "Absent" in sessions.first.inner_text()
    assert page.get_by_text("67%").is_visible()
    box = sessions.first.bounding_box()
    assert box["width"] > 300  # a card across the phone, easy to tap
    assert box["height"] >= 44
    assert no_horizontal_scroll(page)
    check_accessibility(page)
    screenshot(page, "attendance-learner-history-phone")


def test_tutor_marks_attendance_on_a_phone_with_one_tap(app, live_server, new_page, program, book):
    session_id = book(
        utcnow().replace(microsecond=0) - timedelta(minutes=6),
        mode=Mode.IN_PERSON,
        venue_id=program.venue_id,
    )[0]
    page = new_page(viewport=PHONE, locale=LOCALE, is_mobile=True, has_touch=True)
    sign_in(page, live_server, program.tutor)
    page.goto(f"{live_server}/sessions/{session_id}")
    marks = page.get_by_role("group", name="Mark 田中 陽向")
    marks.scroll_into_view_if_needed()
    check_accessibility(page)
    screenshot(page, "attendance-mark-phone-before")
    marks.get_by_role("button", name="Present").tap()
    page.wait_for_url(f"{live_server}/sessions/{session_id}#attendance")
    assert page.get_by_text("Attendance saved: 田中 陽向, Present.").is_visible()
    current = page.get_by_role("group", name="Mark 田中 陽向").get_by_role(
        "button", name="Present (current)"
    )
    assert current.is_visible()
    assert no_horizontal_scroll(page)
    screenshot(page, "attendance-mark-phone-after")
    with app.app_context():
        assert db.session.get(TutoringSession, session_id).status is Status.HELD


def test_the_room_page_reports_joined_heartbeats_and_left(
    app, live_server, new_page, program, book
):
    session_id = book(utcnow().replace(microsecond=0) - timedelta(minutes=5))[0]
    page = new_page(locale=LOCALE)
    sign_in(page, live_server, program.learner)
    page.clock.install()
    page.goto(f"{live_server}/sessions/{session_id}/room")

    def page_events():
        with app.app_context():
            return [
                (e.kind.value, e.client_id)
                for e in db.session.scalars(
                    select(PresenceEvent)
                    .where(PresenceEvent.source == "page")
                    .order_by(PresenceEvent.id)
                )
            ]

    def kinds_once(expected: list[str]) -> list[str]:
        """The page's reports once `expected` arrived (a loaded machine delays the POSTs)."""
        deadline = time.monotonic() + 10
        kinds = [kind for kind, _ in page_events()]
        while kinds != expected and time.monotonic() < deadline:
            page.wait_for_timeout(100)
            kinds = [kind for kind, _ in page_events()]
        return kinds

    page.wait_for_function("() => document.querySelector('[data-room]') !== null")
    assert kinds_once(["joined"]) == ["joined"]
    page.clock.run_for(30_000)
    assert kinds_once(["joined", "heartbeat"]) == ["joined", "heartbeat"]
    page.clock.run_for(30_000)
    assert kinds_once(["joined", "heartbeat", "heartbeat"]) == ["joined", "heartbeat", "heartbeat"]
    events = page_events()
    assert len({client for _, client in events}) == 1  # one tab, one client id
    page.goto(f"{live_server}/")  # leaving the room page
    # The "left" of a closing page is best effort (a browser may drop it; the sweep closes
    # the interval at the last heartbeat then). What must hold: the beating stops.
    page.wait_for_timeout(1000)
    before = len(page_events())
    page.clock.run_for(90_000)
    page.wait_for_timeout(300)
    assert len(page_events()) == before
    assert set(kind for kind, _ in page_events()[3:]) <= {"left"}
