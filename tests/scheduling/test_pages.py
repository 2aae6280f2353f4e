"""Scheduling pages: the booking form, the week, the session page, venues, assignments."""

from __future__ import annotations

import re

import pytest

from tests.conftest import csrf_token
from tests.scheduling.conftest import session_count, tokyo
from tutoring.extensions import db
from tutoring.people.models import User
from tutoring.scheduling import service
from tutoring.scheduling.models import Status, TutoringSession, Venue


def book_form(client, program, **overrides):
    data = {
        "learner_id": str(program.learner.id),
        "tutor_id": str(program.tutor.id),
        "kind": "study",
        "mode": "online",
        "venue_id": "",
        "day": "2026-12-01",
        "start_time": "16:00",
        "duration_minutes": "120",
        "weekly_until": "",
        "csrf_token": csrf_token(client, "/sessions/new"),
    }
    data.update(overrides)
    return client.post("/sessions/new", data=data)


def test_coordinator_books_a_weekly_series_through_the_form(app, client, login_as, program):
    login_as(program.coordinator)
    response = book_form(client, program, weekly_until="2026-12-22")
    assert response.status_code == 302
    assert response.headers["Location"] == "/schedule?week=2026-12-01"
    assert session_count(app) == 4
    week = client.get("/schedule?week=2026-12-01").get_data(as_text=True)
    assert "田中 陽向" in week
    assert "16:00–18:00" in week
    assert "毎週の予定を4件登録しました。" in week


def test_form_shows_field_errors_and_clashes(app, client, login_as, program, book):
    login_as(program.coordinator)
    missing = book_form(client, program, learner_id="", day="")
    page = missing.get_data(as_text=True)
    assert 'id="learner_id-error"' in page
    assert 'id="day-error"' in page
    in_person = book_form(client, program, mode="in_person").get_data(as_text=True)
    assert "対面の予定では会場を選んでください。" in in_person
    busy = book(tokyo(2026, 12, 8, 17, 0), learner=program.other_learner)[0]
    clash = book_form(client, program, weekly_until="2026-12-15").get_data(as_text=True)
    assert "登録しませんでした。次の予定と重なっています" in clash
    assert f'href="/sessions/{busy}"' in clash
    assert session_count(app) == 1


@pytest.mark.parametrize("role", ["tutor", "learner"])
def test_only_managers_book_through_the_form(client, login_as, program, role):
    login_as(getattr(program, role))
    assert client.get("/sessions/new").status_code == 403
    assert book_form_status(client, program) == 403


def book_form_status(client, program):
    return client.post(
        "/sessions/new", data={"csrf_token": csrf_token(client, "/settings")}
    ).status_code


def test_week_shows_only_own_sessions_to_a_learner(client, login_as, program, book):
    book(tokyo(2026, 12, 1, 16, 0))
    book(tokyo(2026, 12, 2, 16, 0), learner=program.other_learner, tutor=program.other_tutor)
    login_as(program.learner)
    page = client.get("/schedule?week=2026-12-01").get_data(as_text=True)
    assert "鈴木 健一" in page
    assert "伊藤 蓮" not in page
    assert "高橋 美咲" not in page


def test_week_filters_for_coordinators(client, login_as, program, book):
    book(tokyo(2026, 12, 1, 16, 0))
    book(tokyo(2026, 12, 2, 16, 0), learner=program.other_learner, tutor=program.other_tutor)
    login_as(program.coordinator)
    page = client.get(f"/schedule?week=2026-12-03&tutor_id={program.other_tutor.id}").get_data(
        as_text=True
    )
    assert "伊藤 蓮" in page
    assert "田中 陽向 /" not in page
    assert "12月1日(火)" in page  # the week of any day starts on its Monday


def test_session_page_for_participants_and_404_for_others(client, login_as, program, book):
    [mine] = book(tokyo(2026, 12, 1, 16, 0))
    [other] = book(
        tokyo(2026, 12, 1, 16, 0), learner=program.other_learner, tutor=program.other_tutor
    )
    login_as(program.learner)
    page = client.get(f"/sessions/{mine}").get_data(as_text=True)
    assert "2026年12月1日(火) 16:00–18:00" in page
    assert "予定を中止する" not in page  # a learner cannot cancel
    assert "変更履歴" not in page
    assert client.get(f"/sessions/{other}").status_code == 404
    login_as(program.tutor)
    assert "予定を中止する" in client.get(f"/sessions/{mine}").get_data(as_text=True)
    assert client.get(f"/sessions/{other}").status_code == 404


def test_tutor_reschedules_and_cancels_through_the_forms(app, client, login_as, program, book):
    [session_id] = book(tokyo(2026, 12, 1, 16, 0))
    login_as(program.tutor)
    token = csrf_token(client, f"/sessions/{session_id}")
    moved = client.post(
        f"/sessions/{session_id}/reschedule",
        data={
            "day": "2026-12-02",
            "start_time": "17:30",
            "duration_minutes": "90",
            "mode": "online",
            "venue_id": "",
            "tutor_id": str(program.tutor.id),
            "scope": "this",
            "csrf_token": token,
        },
    )
    assert moved.status_code == 302
    page = client.get(f"/sessions/{session_id}").get_data(as_text=True)
    assert "12月2日(水) 17:30–19:00" in page
    assert "変更前" in page
    empty_reason = client.post(
        f"/sessions/{session_id}/cancel", data={"reason": "", "scope": "this", "csrf_token": token}
    )
    assert empty_reason.status_code == 400
    client.post(
        f"/sessions/{session_id}/cancel",
        data={"reason": "発熱のため", "scope": "this", "csrf_token": token},
    )
    with app.app_context():
        session = db.session.get(TutoringSession, session_id)
        assert (session.status, session.cancel_reason) == (Status.CANCELLED, "発熱のため")


def test_reschedule_clash_is_shown_and_nothing_changes(app, client, login_as, program, book):
    [session_id] = book(tokyo(2026, 12, 1, 16, 0))
    book(tokyo(2026, 12, 2, 16, 0))
    login_as(program.coordinator)
    response = client.post(
        f"/sessions/{session_id}/reschedule",
        data={
            "day": "2026-12-02",
            "start_time": "16:30",
            "duration_minutes": "120",
            "mode": "online",
            "venue_id": "",
            "tutor_id": str(program.tutor.id),
            "scope": "this",
            "csrf_token": csrf_token(client, f"/sessions/{session_id}"),
        },
    )
    assert response.status_code == 409
    assert "次の予定と重なっています" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(TutoringSession, session_id).starts_at == tokyo(2026, 12, 1, 16, 0)


@pytest.mark.parametrize("role", ["learner", "other_tutor"])
def test_reschedule_and_cancel_refused_for_others(app, client, login_as, program, book, role):
    [session_id] = book(tokyo(2026, 12, 1, 16, 0))
    login_as(getattr(program, role))
    token = csrf_token(client, "/settings")
    expected = 403 if role == "learner" else 404
    assert (
        client.post(f"/sessions/{session_id}/reschedule", data={"csrf_token": token}).status_code
        == expected
    )
    assert (
        client.post(
            f"/sessions/{session_id}/cancel", data={"reason": "x", "csrf_token": token}
        ).status_code
        == expected
    )
    with app.app_context():
        assert db.session.get(TutoringSession, session_id).status is Status.SCHEDULED


def test_venue_pages(app, client, login_as, program):
    login_as(program.coordinator)
    token = csrf_token(client, "/venues/new")
    response = client.post(
        "/venues/new",
        data={
            "name": "駅前ユースセンター",
            "address": "駅前4-5-6",
            "active": "y",
            "csrf_token": token,
        },
    )
    assert response.status_code == 302
    assert "駅前ユースセンター" in client.get("/venues").get_data(as_text=True)
    duplicate = client.post("/venues/new", data={"name": "中央公民館", "csrf_token": token})
    assert "同じ名前の会場がすでにあります。" in duplicate.get_data(as_text=True)
    client.post(
        f"/venues/{program.venue_id}/edit",
        data={"name": "中央公民館", "address": "", "csrf_token": token},
    )
    with app.app_context():
        assert not db.session.get(Venue, program.venue_id).active


@pytest.mark.parametrize("role", ["tutor", "learner"])
@pytest.mark.parametrize("path", ["/venues", "/venues/new", "/venues/1/edit"])
def test_venue_pages_are_403_for_tutors_and_learners(client, login_as, program, role, path):
    login_as(getattr(program, role))
    assert client.get(path).status_code == 403


def test_assignment_page(app, client, login_as, program):
    login_as(program.coordinator)
    url = f"/learners/{program.learner.id}/tutors"
    assert "田中 陽向" in client.get(url).get_data(as_text=True)
    client.post(
        url,
        data={"tutor_ids": [str(program.other_tutor.id)], "csrf_token": csrf_token(client, url)},
    )
    with app.app_context():
        assert [
            t.id for t in service.assigned_tutors(db.session.get(User, program.learner.id))
        ] == [program.other_tutor.id]
    assert client.get(f"/learners/{program.tutor.id}/tutors").status_code == 404
    login_as(program.tutor)
    assert client.get(url).status_code == 403


def test_learner_dashboard_shows_next_session_card(client, login_as, program, book):
    from datetime import timedelta

    from tutoring.database import utcnow

    soon = utcnow().replace(microsecond=0) + timedelta(minutes=10)
    later = utcnow().replace(microsecond=0) + timedelta(days=3)
    [now_id] = book(soon)
    book(later)
    login_as(program.learner)
    page = client.get("/").get_data(as_text=True)
    card = page[page.index('id="next-heading"') : page.index('id="upcoming-heading"')]
    assert f'href="/sessions/{now_id}/room"' in card  # inside the join window: the button works
    assert "鈴木 健一 さんと" in card


def test_join_button_says_when_the_room_opens(client, login_as, program, book):
    [session_id] = book(tokyo(2030, 1, 8, 16, 0))
    login_as(program.learner)
    page = client.get("/").get_data(as_text=True)
    assert 'aria-disabled="true"' in page
    assert "ルームは1月8日(火) 15:45に開きます。" in page
    assert f'href="/sessions/{session_id}/room"' not in page


def test_room_page_permissions(client, login_as, program, book, make_user):
    [session_id] = book(tokyo(2030, 1, 8, 16, 0))
    for account in (program.learner, program.tutor, program.coordinator):
        login_as(account)
        assert client.get(f"/sessions/{session_id}/room").status_code == 200
    for account in (program.other_learner, program.other_tutor):
        login_as(account)
        assert client.get(f"/sessions/{session_id}/room").status_code == 404
    login_as(program.learner)
    page = client.get(f"/sessions/{session_id}/room").get_data(as_text=True)
    assert re.search(r"ルームは1月8日\(火\) 15:45に開きます。", page)


@pytest.mark.parametrize("status", [Status.HELD, Status.NO_SHOW])
def test_a_session_that_took_place_offers_no_change_forms(
    app, client, login_as, program, book, status
):
    [session_id] = book(tokyo(2026, 12, 1, 16, 0))
    with app.app_context():
        db.session.get(TutoringSession, session_id).status = status
        db.session.commit()
    login_as(program.coordinator)
    page = client.get(f"/sessions/{session_id}").get_data(as_text=True)
    assert "予定を中止する" not in page
    assert f'action="/sessions/{session_id}/reschedule"' not in page
    assert "もう変更も中止もできません" in page
