"""Attendance pages: who may open which, the review's content, marking on the session page."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from tests.attendance.conftest import at
from tests.conftest import csrf_token
from tutoring.attendance.tasks import sweep_all
from tutoring.database import utcnow
from tutoring.extensions import db
from tutoring.scheduling.models import Mode, Status, TutoringSession

EN = {"Accept-Language": "en"}


def page(client, path, **kwargs):
    response = client.get(path, headers=EN, **kwargs)
    return response.status_code, response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("who", "path", "status"),
    [
        ("learner", "/attendance", 403),
        ("learner", "/attendance/learners", 403),
        ("learner", "/attendance/me", 200),
        ("tutor", "/attendance", 200),
        ("tutor", "/attendance/learners", 200),
        ("tutor", "/attendance/me", 403),
        ("coordinator", "/attendance", 200),
        ("coordinator", "/attendance/learners", 200),
        ("coordinator", "/attendance/me", 403),
    ],
)
def test_who_may_open_which_page(client, login_as, program, who, path, status):
    login_as(getattr(program, who))
    assert client.get(path).status_code == status


@pytest.mark.parametrize("path", ["/attendance", "/attendance/learners", "/attendance/me"])
def test_signed_out_visitors_are_sent_to_sign_in(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


def test_coordinator_review_shows_warnings_chart_and_log(client, login_as, program, history):
    login_as(program.coordinator)
    status, body = page(client, "/attendance")
    assert status == 200
    assert 'Early warnings <span class="count">(2)</span>' in body
    assert f'href="/schedule?learner_id={program.learner.id}"' in body
    assert "Missed the last 2 planned sessions" in body
    assert 'role="img"' in body
    assert '<title id="weeks-svg-title">' in body
    assert '<th scope="col" class="num">Rate</th>' in body  # and its table
    assert "9 sessions" in body
    assert "田中 陽向" in body
    assert "伊藤 蓮" in body
    assert "format=csv" in body
    assert "format=xlsx" in body


def test_filters_narrow_the_log_and_keep_their_values(client, login_as, program, history):
    login_as(program.coordinator)
    status, body = page(client, f"/attendance?status=absent&learner_id={program.learner.id}")
    assert status == 200
    assert "2 sessions" in body
    assert f'<option value="{program.learner.id}" selected>' in body
    assert '<option value="absent" selected>' in body
    [csv_link] = re.findall(r'href="(/api/v1/attendance\?format=csv[^"]*)"', body)
    assert f"learner_id={program.learner.id}" in csv_link
    assert "status=absent" in csv_link


def test_bad_filters_show_the_field_error(client, login_as, program):
    login_as(program.coordinator)
    status, body = page(client, "/attendance?from=2026-02-30")
    assert status == 400
    assert 'id="filter-from-error"' in body
    assert 'aria-invalid="true"' in body
    status, body = page(client, "/attendance?per_page=100000")
    assert status == 400
    assert 'id="filter-per_page-error"' in body


def test_the_log_pages(client, login_as, program, history):
    login_as(program.coordinator)
    _status, first = page(client, "/attendance?per_page=4")
    assert "Page 1 of 3" in first
    assert 'rel="next"' in first
    _status, third = page(client, "/attendance?per_page=4&page=3")
    assert "Page 3 of 3" in third
    assert 'rel="prev"' in third
    assert 'rel="next"' not in third


def test_a_tutor_sees_only_their_learners(client, login_as, program, history):
    login_as(program.tutor)
    _status, body = page(client, "/attendance")
    assert "田中 陽向" in body
    assert "伊藤 蓮" not in body
    assert 'name="tutor_id"' not in body  # no tutor filter for tutors
    _status, learners = page(client, "/attendance/learners")
    assert "田中 陽向" in learners
    assert "伊藤 蓮" not in learners


def test_learner_summary(client, login_as, program, history):
    login_as(program.coordinator)
    _status, body = page(client, "/attendance/learners?sort=rate")
    rows = body.split("<tbody>")[1].split("</tbody>")[0]
    # Lowest rate first: the learner attended 4 of 6, the other learner 3 of 3.
    assert rows.index("田中 陽向") < rows.index("伊藤 蓮")
    learner_row = rows.split("田中 陽向")[1].split("</tr>")[0]
    cells = [c.split(">")[-1] for c in learner_row.split("</td>")[:-1]]
    assert cells[:3] == ["6", "4", "67%"]
    assert "⚠ </span>2</strong>" in learner_row


def test_learner_sees_only_their_own_history(client, login_as, program, history):
    login_as(program.learner)
    status, body = page(client, "/attendance/me")
    assert status == 200
    assert body.count('class="own-session"') == 6
    assert "伊藤 蓮" not in body
    assert "Absent" in body
    assert "Late" in body
    assert "67%" in body
    login_as(program.other_learner)
    _status, other = page(client, "/attendance/me")
    assert other.count('class="own-session"') == 3
    assert "田中 陽向" not in other


def test_navigation_links(client, login_as, program):
    login_as(program.learner)
    assert 'href="/attendance/me"' in page(client, "/")[1]
    login_as(program.tutor)
    assert 'href="/attendance"' in page(client, "/")[1]


# The session page


@pytest.fixture
def live_in_person(book, program):
    return book(
        utcnow().replace(microsecond=0) - timedelta(minutes=4),
        mode=Mode.IN_PERSON,
        venue_id=program.venue_id,
    )[0]


def test_tutor_marks_the_learner_with_one_tap(app, client, login_as, program, live_in_person):
    login_as(program.tutor)
    _status, body = page(client, f"/sessions/{live_in_person}")
    form_action = f'action="/sessions/{live_in_person}/attendance/{program.learner.id}"'
    assert form_action in body
    assert f'action="/sessions/{live_in_person}/attendance/{program.tutor.id}"' not in body
    response = client.post(
        f"/sessions/{live_in_person}/attendance/{program.learner.id}",
        data={"status": "late", "note": "", "csrf_token": csrf_token(client, "/settings")},
        headers=EN,
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/sessions/{live_in_person}#attendance")
    _status, after = page(client, f"/sessions/{live_in_person}")
    assert "Attendance saved: 田中 陽向, Late." in after
    assert "Attendance changes" in after
    assert "鈴木 健一 · 田中 陽向: Not recorded → <strong>Late</strong>" in " ".join(after.split())
    with app.app_context():
        assert db.session.get(TutoringSession, live_in_person).status is Status.HELD


def test_marking_errors_are_flashed(client, login_as, program, live_in_person):
    login_as(program.tutor)
    response = client.post(
        f"/sessions/{live_in_person}/attendance/{program.learner.id}",
        data={"status": "asleep", "csrf_token": csrf_token(client, "/settings")},
        headers=EN,
        follow_redirects=True,
    )
    assert "Must be one of: present, late, left_early, absent, excused." in response.get_data(
        as_text=True
    )


@pytest.mark.parametrize(("who", "status"), [("learner", 403), ("other_tutor", 404)])
def test_others_may_not_mark(client, login_as, program, live_in_person, who, status):
    login_as(getattr(program, who))
    token = csrf_token(client, "/settings")
    response = client.post(
        f"/sessions/{live_in_person}/attendance/{program.learner.id}",
        data={"status": "present", "csrf_token": token},
    )
    assert response.status_code == status


def test_learner_sees_own_status_without_notes(app, client, login_as, program, past_session):
    with app.app_context():
        from tutoring.attendance import service
        from tutoring.attendance.models import AttendanceStatus
        from tutoring.people.models import User

        service.set_status(
            db.session.get(User, program.coordinator.id),
            db.session.get(TutoringSession, past_session),
            program.learner.id,
            AttendanceStatus.EXCUSED,
            "家庭の事情",
        )
        db.session.commit()
        sweep_all(at(300))
    login_as(program.learner)
    _status, body = page(client, f"/sessions/{past_session}")
    section = body.split('id="attendance"')[1].split("</section>")[0]
    assert "Excused" in section
    assert "家庭の事情" not in section
    assert "鈴木 健一 (" not in section  # the tutor's row is for staff
    assert "<form" not in section
    login_as(program.coordinator)
    _status, staff = page(client, f"/sessions/{past_session}")
    assert "家庭の事情" in staff
    assert "From the room" in staff  # the override differs from what the room saw (absent)


def test_no_marking_before_the_room_opens(client, login_as, program, book):
    later = book(utcnow() + timedelta(days=2))[0]
    login_as(program.tutor)
    _status, body = page(client, f"/sessions/{later}")
    assert "Attendance can be recorded from" in body
    login_as(program.learner)
    _status, body = page(client, f"/sessions/{later}")
    assert 'id="attendance"' not in body


def test_the_review_shows_ten_warnings_and_links_to_all(app, client, login_as, program, make_user):
    from tutoring.people.models import User

    quiet = [make_user("learner", name=f"学習者 {n:02d}") for n in range(12)]
    with app.app_context():
        for account in [*quiet, program.learner, program.other_learner]:
            db.session.get(User, account.id).created_at = utcnow() - timedelta(days=20)
        db.session.commit()
    login_as(program.coordinator)
    _status, body = page(client, "/attendance")
    assert 'Early warnings <span class="count">(14)</span>' in body
    assert body.count("No session attended yet") == 10
    assert "Show all 14 learners" in body
    _status, everything = page(client, "/attendance?warnings=all")
    assert everything.count("No session attended yet") == 14
    assert "Show all" not in everything
