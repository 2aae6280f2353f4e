"""Exam attempts and progress: passes of every round and credits count together."""

from __future__ import annotations

from datetime import date

import pytest

from tests.records.conftest import form_post, subject, user
from tutoring.extensions import db
from tutoring.records import service
from tutoring.records.models import CreditSource, ExamRound, SubjectResult
from tutoring.validation import ValidationError

P, F, W = SubjectResult.PASSED, SubjectResult.FAILED, SubjectResult.PENDING


def sit(app, world, round_id: int, results: dict[str, SubjectResult], **extra) -> int:
    with app.app_context():
        attempt = service.save_attempt(
            user(world.coordinator),
            user(world.learner),
            None,
            exam_round=db.session.get(ExamRound, round_id),
            results={subject(name).id: result for name, result in results.items()},
            **extra,
        )
        db.session.commit()
        return attempt.id


def credit(app, world, name: str, source=CreditSource.SCHOOL) -> None:
    with app.app_context():
        service.save_credit(
            user(world.coordinator), user(world.learner), subject=subject(name), source=source
        )
        db.session.commit()


def progress(app, world):
    with app.app_context():
        result = service.exam_progress(user(world.learner))
        states = {row.subject.name: row.state for row in result.subjects}
        return result.done, result.remaining, result.complete, states


def test_a_new_learner_needs_eight_subjects(app, world):
    done, remaining, complete, states = progress(app, world)
    assert (done, remaining, complete) == (0, 8, False)
    assert set(states.values()) == {"none"}
    assert len(states) == 11


def test_credits_and_passes_carry_over_between_rounds(app, world, make_round):
    first = make_round(2025, 2)
    second = make_round(2026, 1)
    credit(app, world, "英語", CreditSource.QUALIFICATION)
    credit(app, world, "公共", CreditSource.SCHOOL)
    sit(app, world, first, {"国語": P, "数学": F, "地理": P, "科学と人間生活": P})
    # Left: 歴史 and 数学, and one basic science to go with 科学と人間生活.
    assert progress(app, world)[:3] == (5, 3, False)

    sit(app, world, second, {"数学": P, "歴史": P, "生物基礎": F})
    done, remaining, complete, states = progress(app, world)
    assert (done, remaining, complete) == (7, 1, False)
    assert states["数学"] == "passed"
    assert states["英語"] == "credited"
    assert states["生物基礎"] == "failed"
    assert states["物理基礎"] == "none"

    third = make_round(2026, 2)
    sit(app, world, third, {"生物基礎": P}, certificate_obtained=True)
    done, remaining, complete, states = progress(app, world)
    assert (done, remaining, complete) == (8, 0, True)
    with app.app_context():
        assert service.exam_progress(user(world.learner)).certificate_obtained


def test_three_basic_sciences_also_complete_science(app, world, make_round):
    exam_round = make_round(2026, 1)
    sit(app, world, exam_round, {"物理基礎": P, "化学基礎": P})
    assert progress(app, world)[1] == 6 + 1  # six required, then one more science either way
    later = make_round(2026, 2)
    sit(app, world, later, {"地学基礎": P})
    done, remaining, _complete, _states = progress(app, world)
    assert (done, remaining) == (3, 6)


def test_pending_results_do_not_count(app, world, make_round):
    sit(app, world, make_round(2026, 2), {"国語": W})
    done, remaining, _complete, states = progress(app, world)
    assert (done, remaining) == (0, 8)
    assert states["国語"] == "pending"


def test_a_passed_or_credited_subject_cannot_be_taken_again(app, world, make_round):
    first, second = make_round(2025, 2), make_round(2026, 1)
    sit(app, world, first, {"国語": P})
    credit(app, world, "英語")
    with pytest.raises(ValidationError) as again:
        sit(app, world, second, {"国語": P, "英語": W})
    assert again.value.field == "subjects"
    assert "国語、英語" in str(again.value.message)


def test_one_attempt_per_round_and_the_certificate_needs_all_passes(app, world, make_round):
    exam_round = make_round(2026, 1)
    sit(app, world, exam_round, {"国語": P})
    with pytest.raises(ValidationError) as twice:
        sit(app, world, exam_round, {"数学": P})
    assert (twice.value.field, twice.value.code) == ("round_id", "conflict")
    with pytest.raises(ValidationError) as early:
        sit(app, world, make_round(2026, 2), {"数学": W}, certificate_obtained=True)
    assert early.value.field == "certificate_obtained"


def test_rounds_are_first_or_second_in_their_year(app, world):
    with app.app_context():
        coordinator = user(world.coordinator)
        for fields, field in (
            ({"year": 2026, "number": 3, "exam_on": date(2026, 8, 1)}, "number"),
            ({"year": 2026, "number": 1, "exam_on": date(2025, 8, 1)}, "exam_on"),
            ({"year": 1990, "number": 1, "exam_on": date(1990, 8, 1)}, "year"),
        ):
            with pytest.raises(ValidationError) as bad:
                service.save_round(coordinator, None, **fields)
            assert bad.value.field == field


def test_attempt_form_records_results_per_subject(app, client, login_as, world, make_round):
    exam_round = make_round(2026, 1)
    login_as(world.tutor)
    with app.app_context():
        kokugo, sugaku = subject("国語").id, subject("数学").id
    page = f"/learners/{world.learner.id}/exams/new"
    empty = form_post(client, page, {"round_id": str(exam_round)})
    assert "Choose at least one subject taken." in empty.get_data(as_text=True)
    response = form_post(
        client,
        page,
        {"round_id": str(exam_round), f"subject_{kokugo}": "passed", f"subject_{sugaku}": "failed"},
    )
    assert response.status_code == 302
    exams = client.get(f"/learners/{world.learner.id}/exams").get_data(as_text=True)
    assert "国語: Passed" in exams
    assert "数学: Not passed" in exams
    assert "1 subjects passed or credited; 7 more needed." in exams


def test_subject_list_is_editable_by_coordinators(app, client, login_as, world):
    login_as(world.coordinator)
    response = form_post(
        client, "/subjects", {"name": "情報", "kind": "other", "position": "20", "active": "y"}
    )
    assert response.status_code == 302
    clash = form_post(client, "/subjects", {"name": "国語", "kind": "required", "position": "1"})
    assert 'id="name-error"' in clash.get_data(as_text=True)
    login_as(world.tutor)
    assert client.get("/subjects").status_code == 200
    assert (
        form_post(client, "/subjects", {"name": "x", "kind": "other", "position": "1"}).status_code
        == 403
    )
    _done, remaining, _complete, states = progress(app, world)
    assert states["情報"] == "none"
    assert remaining == 8  # a subject of kind "other" does not count


def test_results_are_updated_when_they_come(app, client, login_as, world, make_round):
    exam_round = make_round(2026, 2)
    attempt_id = sit(app, world, exam_round, {"国語": W, "数学": W})
    with app.app_context():
        kokugo, sugaku = subject("国語").id, subject("数学").id
    login_as(world.coordinator)
    page = f"/learners/{world.learner.id}/exams/{attempt_id}"
    assert '<option selected value="pending">' in client.get(page).get_data(as_text=True)
    response = form_post(
        client,
        page,
        {"round_id": str(exam_round), f"subject_{kokugo}": "passed", f"subject_{sugaku}": "failed"},
    )
    assert response.status_code == 302
    _done, _remaining, _complete, states = progress(app, world)
    assert (states["国語"], states["数学"]) == ("passed", "failed")
    form_post(client, page, {"round_id": str(exam_round), f"subject_{kokugo}": "passed"})
    with app.app_context():
        attempt = service.attempts(user(world.learner))[0]
        assert [(s.subject.name, s.result) for s in attempt.subjects] == [("国語", P)]
