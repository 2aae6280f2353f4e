"""In Chromium: a tutor writes the session's note in the room's side panel; the learner reads
it, with the homework, on a phone."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.browser.conftest import (
    DESKTOP,
    PHONE,
    check_accessibility,
    no_horizontal_scroll,
    screenshot,
)
from tests.browser.jitsi_standin import JitsiStandIn
from tests.records.conftest import user
from tutoring.database import utcnow
from tutoring.extensions import db
from tutoring.notes import service as notes
from tutoring.notes.models import StudyNote, Visibility
from tutoring.records import service as records

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def standin(tmp_path_factory):
    with JitsiStandIn(tmp_path_factory.mktemp("jitsi")) as server:
        yield server


@pytest.fixture
def app_config(standin):
    return {"JITSI_DOMAIN": standin.domain}


@pytest.fixture
def world(program):
    """The program of tests/conftest.py; booking assigns the tutor to the learner."""
    return program


@pytest.fixture
def open_session(app, world, book):
    session_id = book(utcnow().replace(microsecond=0) - timedelta(minutes=5))[0]
    with app.app_context():
        records.save_goal(
            user(world.coordinator),
            user(world.learner),
            None,
            text="Pass mathematics in the next round",
            target_on=None,
        )
        db.session.commit()
    return session_id


def sign_in(page, base_url, account):
    """Sign in through the form, checking the sign-in page and the dashboard with axe."""
    page.goto(f"{base_url}/login")
    check_accessibility(page)
    page.get_by_label("E-mail or login name").fill(account.email)
    page.get_by_label("Password").fill(account.password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base_url}/")
    check_accessibility(page)


def test_tutor_writes_a_note_in_the_room_and_the_learner_reads_it_on_a_phone(
    app, live_server, new_page, world, open_session
):
    page = new_page(viewport=DESKTOP, locale="en-US", ignore_https_errors=True)
    sign_in(page, live_server, world.tutor)
    page.goto(f"{live_server}/sessions/{open_session}/room")
    page.wait_for_function("() => window.jitsiStandIn !== undefined")
    page.evaluate("() => { window.notReloaded = true; }")

    page.get_by_text("Study note", exact=True).click()
    panel = page.locator("#note-panel")
    assert panel.get_by_text("Pass mathematics in the next round").is_visible()
    panel.get_by_label("Subject", exact=True).fill("数学")
    panel.get_by_label("Material").fill("高卒認定 完全攻略")
    panel.get_by_label("Pages").fill("p.12–15")
    panel.get_by_label("What we studied").fill("**一次方程式**の文章題を2問。\n- 移項\n- 検算")
    panel.get_by_label("Homework", exact=True).fill("p.16 の練習問題 1〜4")
    panel.get_by_label("Shared with the learner").check()
    check_accessibility(page)
    panel.get_by_role("button", name="Save the note").click()
    status = panel.get_by_role("status")
    page.wait_for_function(
        "() => document.querySelector('[data-note-status]').textContent.startsWith('Saved at')"
    )
    assert "The learner sees it" in status.inner_text()
    assert page.evaluate("() => window.notReloaded === true")  # the call went on
    assert panel.get_by_role("button", name="Save changes").is_visible()
    screenshot(page, "notes-room-panel-tutor-desktop")

    # Saving again changes the same note.
    panel.get_by_label("Homework", exact=True).fill("p.16 の練習問題 1〜6")
    panel.get_by_role("button", name="Save changes").click()
    page.wait_for_function(
        "() => document.querySelector('[data-note-submit]').disabled === false"
        " && document.querySelector('[data-note-status]').textContent.startsWith('Saved at')"
    )
    with app.app_context():
        note = db.session.query(StudyNote).one()
        assert note.session_id == open_session
        assert note.homework == "p.16 の練習問題 1〜6"
        assert note.visibility is Visibility.LEARNER

    phone = new_page(viewport=PHONE, locale="en-US", is_mobile=True, has_touch=True)
    sign_in(phone, live_server, world.learner)
    phone.get_by_role("link", name="Open my record").tap()
    phone.wait_for_url(f"{live_server}/my/record")
    homework = phone.get_by_role("region", name="Homework")
    assert "p.16 の練習問題 1〜6" in homework.inner_text()
    notes = phone.get_by_role("region", name="Notes from my tutor")
    assert notes.locator("strong", has_text="一次方程式").is_visible()
    assert "高卒認定 完全攻略" in notes.inner_text()
    assert "Pass mathematics in the next round" in phone.inner_text("main")
    assert no_horizontal_scroll(phone)
    check_accessibility(phone)
    screenshot(phone, "notes-my-record-learner-phone")


def test_the_panel_is_a_bottom_sheet_on_a_phone(live_server, new_page, world, open_session):
    page = new_page(
        viewport=PHONE, locale="en-US", is_mobile=True, has_touch=True, ignore_https_errors=True
    )
    sign_in(page, live_server, world.tutor)
    page.goto(f"{live_server}/sessions/{open_session}/room")
    page.wait_for_function("() => window.jitsiStandIn !== undefined")
    toggle = page.get_by_text("Study note", exact=True)
    toggle.tap()
    body = page.locator(".note-panel-body")
    box = body.bounding_box()
    assert box["width"] == PHONE["width"]
    assert box["height"] <= PHONE["height"] * 0.8 + 1
    assert page.get_by_label("Homework", exact=True).is_visible() or body.evaluate(
        "(element) => element.scrollHeight > element.clientHeight"
    )
    assert no_horizontal_scroll(page)
    check_accessibility(page)
    screenshot(page, "notes-room-panel-tutor-phone")
    page.get_by_text("Close the note", exact=True).tap()
    assert not body.is_visible()


def test_staff_pages_of_a_record(app, live_server, new_page, world, open_session):
    with app.app_context():
        notes.create_note(
            user(world.tutor),
            user(world.learner),
            notes.NoteInput(
                subject="英語", body="**be動詞**", homework="単語10個", visibility=Visibility.STAFF
            ),
        )
        db.session.commit()
    page = new_page(viewport=DESKTOP, locale="en-US")
    sign_in(page, live_server, world.coordinator)
    page.get_by_role("link", name="Learners").click()
    page.wait_for_url(f"{live_server}/learners")
    check_accessibility(page)
    page.get_by_role("link", name=world.learner.name).click()
    page.wait_for_url(f"{live_server}/learners/{world.learner.id}")
    assert page.get_by_text("Staff only").first.is_visible()
    check_accessibility(page)
    screenshot(page, "notes-record-coordinator-desktop")
    for tab in ("Study notes", "Exams", "Profile", "Guardian consent"):
        page.get_by_role("navigation", name=f"Record of {world.learner.name}").get_by_role(
            "link", name=tab
        ).click()
        page.wait_for_load_state()
        check_accessibility(page)
    phone = new_page(viewport=PHONE, locale="en-US", is_mobile=True)
    sign_in(phone, live_server, world.tutor)
    phone.goto(f"{live_server}/learners/{world.learner.id}")
    assert no_horizontal_scroll(phone)
    check_accessibility(phone)
    screenshot(phone, "notes-record-tutor-phone")


def test_program_and_admin_pages_pass_axe(
    app, live_server, new_page, make_user, world, open_session
):
    admin = make_user("admin", name="管理者 花子")
    page = new_page(viewport=DESKTOP, locale="en-US")
    sign_in(page, live_server, admin)
    for path in (
        "/reviews",
        "/exam-rounds",
        "/subjects",
        f"/learners/{world.learner.id}/reviews/new",
        f"/learners/{world.learner.id}/exams/new",
        f"/learners/{world.learner.id}/notes/new",
        f"/learners/{world.learner.id}/erase".replace("/learners", "/admin/learners"),
        f"/admin/learners/{world.learner.id}/export",
        "/admin/audit",
    ):
        page.goto(f"{live_server}{path}")
        assert page.locator("h1").count() == 1, path
        check_accessibility(page)
    screenshot(page, "notes-audit-admin-desktop")
