"""The learners list, a learner's record and its forms, the learner's own page, the record API."""

from __future__ import annotations

from datetime import date

from tests.api.test_auth_and_errors import assert_error
from tests.records.conftest import form_post, subject, user
from tests.scheduling.conftest import tokyo
from tutoring.extensions import db
from tutoring.people.models import LearnerStatus, TutorAssignment
from tutoring.records import service
from tutoring.records.models import ConsentMethod, Goal, GoalStatus, PlanItem


def names(html: str) -> str:
    """Return the list part of the learners page (the filters hold tutor names)."""
    return html.split('class="learner-list"')[1] if 'class="learner-list"' in html else ""


def test_learners_list_searches_and_filters(app, client, login_as, world):
    with app.app_context():
        service.save_profile(
            user(world.coordinator), user(world.learner), name="田中 陽向", furigana="たなか ひなた"
        )
        service.set_status(
            user(world.coordinator),
            user(world.other_learner),
            LearnerStatus.PAUSED,
            date(2026, 9, 1),
        )
        db.session.commit()
    login_as(world.coordinator)
    every = names(client.get("/learners").get_data(as_text=True))
    assert "田中 陽向" in every
    assert "伊藤 蓮" in every
    by_reading = names(client.get("/learners?q=ひなた").get_data(as_text=True))
    assert "田中 陽向" in by_reading
    assert "伊藤 蓮" not in by_reading
    paused = names(client.get("/learners?status=paused").get_data(as_text=True))
    assert "伊藤 蓮" in paused
    assert "田中 陽向" not in paused
    active = names(client.get("/learners?status=active").get_data(as_text=True))
    assert "田中 陽向" in active  # no status recorded counts as active
    assert "伊藤 蓮" not in active
    by_tutor = names(
        client.get(f"/learners?tutor_id={world.other_tutor.id}").get_data(as_text=True)
    )
    assert "伊藤 蓮" in by_tutor
    assert "田中 陽向" not in by_tutor
    assert f'href="/learners/{world.learner.id}"' in every
    nobody = client.get("/learners?q=存在しない").get_data(as_text=True)
    assert "No learners match." in nobody


def test_a_tutor_lists_only_their_learners(client, login_as, world):
    login_as(world.tutor)
    page = names(client.get("/learners").get_data(as_text=True))
    assert "田中 陽向" in page
    assert "伊藤 蓮" not in page
    # A tutor filter cannot widen what a tutor sees.
    page = names(client.get(f"/learners?tutor_id={world.other_tutor.id}").get_data(as_text=True))
    assert "伊藤 蓮" not in page


def test_record_gathers_everything_as_a_timeline(app, client, login_as, world, book):
    book(tokyo(2026, 10, 6, 16, 0))
    with app.app_context():
        coordinator, learner = user(world.coordinator), user(world.learner)
        service.save_profile(coordinator, learner, name="田中 陽向", birth_year=2010)
        service.record_consent(
            coordinator,
            learner,
            given_by="母",
            given_on=date(2026, 4, 1),
            method=ConsentMethod.PAPER,
        )
        service.save_consultation(
            coordinator,
            learner,
            None,
            held_on=date(2026, 4, 2),
            own_words="調理師になりたい",
            notes="",
        )
        service.save_goal(
            coordinator, learner, None, text="高卒認定に合格", target_on=date(2027, 11, 30)
        )
        service.save_plan_item(
            coordinator, learner, subject=subject("数学"), materials="完全攻略", plan_text="週1回"
        )
        db.session.commit()
    login_as(world.tutor)
    page = client.get(f"/learners/{world.learner.id}").get_data(as_text=True)
    for text in (
        "調理師になりたい",
        "高卒認定に合格",
        "完全攻略",
        "Given by 母",
        "Born in 2010",
        "Minor",
    ):
        assert text in page, text
    timeline = page.split('id="timeline"')[1]
    assert timeline.index('datetime="2026-10-06"') < timeline.index('datetime="2026-04-02"')
    assert 'datetime="2026-04-01"' in timeline


def test_goal_and_plan_forms(app, client, login_as, world):
    login_as(world.tutor)
    base = f"/learners/{world.learner.id}"
    bad = form_post(client, f"{base}/goals/new", {"text": "", "status": "open"})
    assert 'id="text-error"' in bad.get_data(as_text=True)
    form_post(
        client,
        f"{base}/goals/new",
        {"text": "英検3級", "target_on": "2027-06-30", "status": "open"},
    )
    with app.app_context():
        goal_id = db.session.query(Goal).one().id
    form_post(client, f"{base}/goals/{goal_id}", {"text": "英検3級", "status": "achieved"})
    with app.app_context():
        kokugo = subject("国語").id
        assert db.session.get(Goal, goal_id).status is GoalStatus.ACHIEVED
    no_subject = form_post(client, f"{base}/plan/new", {"subject_id": "", "materials": "x"})
    assert 'id="subject_id-error"' in no_subject.get_data(as_text=True)
    form_post(
        client,
        f"{base}/plan/new",
        {"subject_id": str(kokugo), "materials": "過去問", "plan": "毎週"},
    )
    form_post(
        client, f"{base}/plan/new", {"subject_id": str(kokugo), "materials": "新しい本", "plan": ""}
    )
    with app.app_context():
        items = db.session.query(PlanItem).all()
        assert [(i.subject_id, i.materials) for i in items] == [(kokugo, "新しい本")]


def test_consultation_form(app, client, login_as, world):
    login_as(world.coordinator)
    page = f"/learners/{world.learner.id}/consultations/new"
    empty = form_post(client, page, {"held_on": "2026-11-01", "own_words": "", "notes": ""})
    assert 'id="own_words-error"' in empty.get_data(as_text=True)
    done = form_post(client, page, {"held_on": "2026-11-01", "own_words": "働きながら勉強したい"})
    assert done.status_code == 302
    with app.app_context():
        assert service.consultations(user(world.learner))[0].own_words == "働きながら勉強したい"


def test_learner_api_gives_profile_goals_plan_and_consent(app, world, api):
    with app.app_context():
        coordinator, learner = user(world.coordinator), user(world.learner)
        service.save_profile(
            coordinator, learner, name="田中 陽向", birth_year=2010, furigana="たなか"
        )
        service.record_consent(
            coordinator,
            learner,
            given_by="母",
            given_on=date(2026, 4, 1),
            method=ConsentMethod.ONLINE,
        )
        service.save_goal(coordinator, learner, None, text="合格", target_on=date(2027, 11, 30))
        service.save_plan_item(
            coordinator, learner, subject=subject("英語"), materials="単語帳", plan_text=""
        )
        db.session.commit()
    for account in (world.learner, world.tutor, world.coordinator):
        body = api(account, "GET", f"/api/v1/learners/{world.learner.id}").json
        assert body["id"] == world.learner.id
        assert body["profile"]["furigana"] == "たなか"
        assert body["profile"]["minor"] is True
        assert body["profile"]["status"] == "active"
        assert body["goals"][0] == {**body["goals"][0], "text": "合格", "target_on": "2027-11-30"}
        assert body["plan"][0]["subject"] == "英語"
        assert body["consent"]["required"] is True
        assert body["consent"]["missing"] is False
        assert body["consent"]["current"]["method"] == "online"
        assert body["tutors"] == [{"id": world.tutor.id, "name": world.tutor.name}]
        assert body["exam_progress"]["remaining"] == 8
    assert_error(
        api(world.other_tutor, "GET", f"/api/v1/learners/{world.learner.id}"), 404, "not_found"
    )
    assert_error(
        api(world.tutor, "GET", f"/api/v1/learners/{world.coordinator.id}"), 404, "not_found"
    )


def test_learner_sees_goals_progress_next_session_and_homework(
    app, client, login_as, world, book, api
):
    book(tokyo(2030, 1, 8, 16, 0))
    with app.app_context():
        service.save_goal(
            user(world.coordinator), user(world.learner), None, text="合格する", target_on=None
        )
        db.session.commit()
    api(
        world.tutor,
        "POST",
        f"/api/v1/learners/{world.learner.id}/notes",
        {"subject": "英語", "body": "be動詞", "homework": "単語を10個", "visibility": "learner"},
    )
    login_as(world.learner)
    page = client.get("/my/record").get_data(as_text=True)
    for text in ("合格する", "単語を10個", "be動詞", "8 more needed", "16:00", world.tutor.name):
        assert text in page, text
    home = client.get("/").get_data(as_text=True)
    assert 'href="/my/record"' in home
    with app.app_context():  # the tutor's assignment is what lets them see it
        db.session.query(TutorAssignment).delete()
        db.session.commit()
    login_as(world.tutor)
    assert client.get(f"/learners/{world.learner.id}").status_code == 404
