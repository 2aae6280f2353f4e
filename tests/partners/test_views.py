"""Pages, API and export of partners: a liaison sees their organisation's referrals, and only
the consented fields, everywhere; another organisation's liaison gets 404."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest

from tests.conftest import bearer, csrf_token
from tests.partners.conftest import REFERRAL
from tutoring.extensions import db


def accept_and_share(app, program, referral_id, fields, birth_year=None):
    from tutoring.partners import service
    from tutoring.partners.models import Referral
    from tutoring.people.models import User
    from tutoring.records import service as records

    with app.app_context():
        coordinator = db.session.get(User, program.coordinator.id)
        referral = db.session.get(Referral, referral_id)
        learner = service.accept(coordinator, referral)
        records.profile_for_update(learner).birth_year = birth_year or date.today().year - 20
        consent = service.record_sharing(
            coordinator, referral, fields=fields, learner_agreed_on=date.today()
        )
        db.session.commit()
        return consent.id, learner.id


def signed_in(app, login_as, account):
    client = app.test_client()
    login_as(account, client)
    return client


def test_liaison_submits_on_the_form_and_sees_the_status(app, login_as, partners):
    client = signed_in(app, login_as, partners.liaison)
    token = csrf_token(client, "/partners/referrals/new")
    response = client.post(
        "/partners/referrals/new", data={**REFERRAL, "student_name": "", "csrf_token": token}
    )
    assert response.status_code == 400
    assert "student_name-error" in response.get_data(as_text=True)
    response = client.post(
        "/partners/referrals/new", data={**REFERRAL, "csrf_token": token}, follow_redirects=True
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "青木 翔" in page
    assert "5月から欠席" in page
    assert "badge-referral-submitted" in page


def test_liaison_sees_only_their_organisation_on_every_page_api_and_export(
    app, login_as, program, partners, submit
):
    mine = submit(partners.liaison)
    theirs = submit(partners.other_liaison, student_name="森 結", situation="他校の事情")
    client = signed_in(app, login_as, partners.liaison)
    page = client.get("/partners").get_data(as_text=True)
    assert "青木 翔" in page
    assert "森 結" not in page
    assert client.get(f"/partners/referrals/{theirs}").status_code == 404
    assert client.get(f"/api/v1/partners/referrals/{theirs}").status_code == 404
    token = csrf_token(client, f"/partners/referrals/{mine}")
    answer = client.post(
        f"/partners/referrals/{theirs}/answer", data={"message": "x", "csrf_token": token}
    )
    assert answer.status_code == 404
    listed = client.get("/api/v1/partners/referrals").get_json()["referrals"]
    assert [r["id"] for r in listed] == [mine]
    exported = client.get("/partners/export.csv").get_data(as_text=True)
    assert "青木 翔" in exported
    assert "森 結" not in exported
    assert exported.startswith("\ufeff")
    header = next(csv.reader(io.StringIO(exported.removeprefix("\ufeff"))))
    assert header[:4] == ["つなぎ", "生徒", "送信日", "状態"]


def test_only_consented_fields_reach_the_liaison_and_withdrawal_closes_at_once(
    app, login_as, program, partners, submit
):
    referral_id = submit(partners.liaison)
    consent_id, learner_id = accept_and_share(app, program, referral_id, ["back_at_school"])
    client = signed_in(app, login_as, partners.liaison)

    page = client.get(f"/partners/referrals/{referral_id}").get_data(as_text=True)
    assert "学校に復帰" in page  # the consented field, in Japanese by default
    assert "出席率" not in page
    assert "Attendance rate" not in page
    shared = client.get(f"/api/v1/partners/referrals/{referral_id}").get_json()["shared"]
    assert shared == {"consented": ["back_at_school"], "back_at_school": False}
    rows = list(csv.reader(io.StringIO(client.get("/partners/export.csv").get_data(as_text=True))))
    attendance_column, back_column = 4, 5
    assert rows[1][attendance_column] == ""
    assert rows[1][back_column] != ""

    coordinator = signed_in(app, login_as, program.coordinator)
    token = csrf_token(coordinator, f"/partners/referrals/{referral_id}")
    coordinator.post(f"/partners/sharing/{consent_id}/withdraw", data={"csrf_token": token})

    assert client.get(f"/api/v1/partners/referrals/{referral_id}").get_json()["shared"] is None
    rows = list(csv.reader(io.StringIO(client.get("/partners/export.csv").get_data(as_text=True))))
    assert rows[1][back_column] == ""
    page = client.get(f"/partners/referrals/{referral_id}").get_data(as_text=True)
    assert "shared-facts" not in page


def test_liaison_never_sees_notes_outreach_or_case_reviews(
    app, login_as, program, partners, submit
):
    from tutoring.partners import service
    from tutoring.partners.models import OutreachWay, Referral
    from tutoring.people.models import User

    referral_id = submit(partners.liaison)
    accept_and_share(
        app, program, referral_id, ["attendance_rate", "back_at_school", "exam_progress"]
    )
    with app.app_context():
        coordinator = db.session.get(User, program.coordinator.id)
        referral = db.session.get(Referral, referral_id)
        service.record_outreach(
            coordinator,
            referral,
            contacted_on=date.today(),
            way=OutreachWay.VISIT,
            who="佐藤",
            outcome="家庭の事情で不在がち（秘）",
        )
        service.save_plan(
            coordinator,
            referral,
            held_on=date.today(),
            participants="学校, 福祉課",
            situation="状況（秘）",
            decisions="週1回の訪問（秘）",
        )
        learner_id = referral.learner_id
        db.session.commit()
    client = signed_in(app, login_as, partners.liaison)
    for path in (
        f"/partners/referrals/{referral_id}",
        "/partners",
        "/partners/export.csv",
        f"/api/v1/partners/referrals/{referral_id}",
        "/api/v1/partners/referrals",
    ):
        text = client.get(path).get_data(as_text=True)
        assert "（秘）" not in text, path
    for path in (
        f"/learners/{learner_id}",
        f"/api/v1/learners/{learner_id}",
        f"/api/v1/learners/{learner_id}/notes",
        "/schedule",
        "/api/v1/sessions",
        "/partners/council",
        "/partners/organisations",
    ):
        assert client.get(path).status_code == 403, path


def test_liaison_token_reaches_only_the_partners_api(app, partners, submit, make_token):
    mine = submit(partners.liaison)
    headers = bearer(make_token(partners.liaison))
    client = app.test_client()
    assert client.get("/api/v1/me", headers=headers).get_json()["role"] == "liaison"
    assert client.get(f"/api/v1/partners/referrals/{mine}", headers=headers).status_code == 200
    assert client.get("/api/v1/sessions", headers=headers).status_code == 403
    assert client.get("/api/v1/users", headers=headers).status_code == 403
    created = client.post(
        "/api/v1/partners/referrals", headers=headers, json={**REFERRAL, "situation": ""}
    )
    assert created.status_code == 400
    assert created.get_json()["error"]["message"]
    created = client.post("/api/v1/partners/referrals", headers=headers, json=REFERRAL)
    assert created.status_code == 201
    assert created.get_json()["status"] == "submitted"


def test_liaison_cannot_open_the_whiteboard_socket(app, login_as, partners):
    from tutoring.extensions import socketio

    client = signed_in(app, login_as, partners.liaison)
    socket = socketio.test_client(app, namespace="/whiteboard", flask_test_client=client)
    assert not socket.is_connected("/whiteboard")


def test_coordinator_decides_through_the_api_with_history(app, login_as, program, partners, submit):
    referral_id = submit(partners.liaison)
    client = signed_in(app, login_as, program.coordinator)
    token = csrf_token(client, "/settings")
    headers = {"X-CSRFToken": token}
    url = f"/api/v1/partners/referrals/{referral_id}/decision"
    bad = client.post(url, headers=headers, json={"action": "decline"})
    assert bad.status_code == 400
    asked = client.post(url, headers=headers, json={"action": "ask", "message": "学年は？"})
    assert asked.get_json()["status"] == "more_info"
    accepted = client.post(url, headers=headers, json={"action": "accept"})
    body = accepted.get_json()
    assert body["status"] == "accepted"
    assert body["learner_id"]
    assert [h["status"] for h in body["history"]] == ["submitted", "more_info", "accepted"]
    again = client.post(url, headers=headers, json={"action": "accept"})
    assert again.status_code == 409


@pytest.mark.parametrize("role", ["tutor", "learner"])
def test_tutors_and_learners_get_403_on_partners(app, login_as, program, partners, submit, role):
    referral_id = submit(partners.liaison)
    client = signed_in(app, login_as, getattr(program, role))
    for path in (
        "/partners",
        f"/partners/referrals/{referral_id}",
        "/partners/council",
        "/api/v1/partners/referrals",
    ):
        assert client.get(path).status_code == 403, path


def test_coordinator_creates_an_organisation_and_a_liaison(app, login_as, program):
    from tutoring.partners.models import Liaison, Organisation

    client = signed_in(app, login_as, program.coordinator)
    token = csrf_token(client, "/partners/organisations")
    response = client.post(
        "/partners/organisations",
        data={
            "name": "多摩地域若者サポートステーション",
            "kind": "youth_station",
            "csrf_token": token,
        },
    )
    assert response.status_code == 302
    with app.app_context():
        organisation_id = db.session.query(Organisation).one().id
    response = client.post(
        f"/partners/organisations/{organisation_id}/liaisons",
        data={
            "liaison-name": "中村 相談員",
            "liaison-email": "nakamura@station.example.org",
            "liaison-password": "a long and unusual passphrase 42",
            "csrf_token": token,
        },
    )
    assert response.status_code == 302
    with app.app_context():
        link = db.session.query(Liaison).one()
        assert link.organisation_id == organisation_id
        assert link.user.role.value == "liaison"
    # A liaison is never made without an organisation.
    made = client.post(
        "/api/v1/users",
        headers={"X-CSRFToken": token},
        json={"name": "x", "email": "x@example.org", "role": "liaison"},
    )
    assert made.status_code == 400


def test_council_page_prints_every_referral(app, login_as, program, partners, submit):
    submit(partners.liaison)
    submit(partners.other_liaison, student_name="森 結")
    client = signed_in(app, login_as, program.coordinator)
    page = client.get("/partners/council?since=2020-01-01").get_data(as_text=True)
    assert "青木 翔" in page
    assert "森 結" in page
    assert client.get("/partners/council?since=nonsense").status_code == 200


def test_referral_out_page_validates_and_records(app, login_as, program):
    client = signed_in(app, login_as, program.coordinator)
    url = f"/partners/learners/{program.learner.id}/referrals-out"
    token = csrf_token(client, url)
    bad = client.post(
        url, data={"agency": "", "referred_on": "2026-01-05", "reason": "r", "csrf_token": token}
    )
    assert bad.status_code == 400
    ok = client.post(
        url,
        data={
            "agency": "福祉事務所",
            "referred_on": "2026-01-05",
            "reason": "生活支援",
            "csrf_token": token,
        },
        follow_redirects=True,
    )
    assert "福祉事務所" in ok.get_data(as_text=True)
    record = client.get(f"/learners/{program.learner.id}").get_data(as_text=True)
    assert "福祉事務所" in record


def test_a_stopped_organisation_refers_no_more_but_keeps_its_referrals(
    app, login_as, program, partners, submit
):
    mine = submit(partners.liaison)
    coordinator = signed_in(app, login_as, program.coordinator)
    url = f"/partners/organisations/{partners.school_id}"
    token = csrf_token(coordinator, url)
    bad = coordinator.post(url, data={"name": "", "kind": "school", "csrf_token": token})
    assert bad.status_code == 400
    stopped = coordinator.post(
        url, data={"name": "都立みどり高等学校", "kind": "school", "csrf_token": token}
    )
    assert stopped.status_code == 302
    liaison = signed_in(app, login_as, partners.liaison)
    assert liaison.get("/partners/referrals/new").status_code == 403
    assert liaison.get(f"/partners/referrals/{mine}").status_code == 200
