"""Study notes: writing, history of edits, who reads what, the notes API and its errors."""

from __future__ import annotations

import pytest

from tests.api.test_auth_and_errors import assert_error
from tests.records.conftest import user
from tests.scheduling.conftest import tokyo
from tutoring.extensions import db
from tutoring.notes import service
from tutoring.notes.models import NoteRevision, StudyNote, Visibility
from tutoring.records.access import AccessDenied

NOTE = {
    "subject": "数学",
    "body": "**一次方程式**の文章題を2問。",
    "homework": "p.16 の 1〜4",
    "visibility": "learner",
}
STAFF_NOTE = {
    "subject": "数学",
    "body": "家庭の事情で眠れていない様子（スタッフ限り）",
    "homework": "スタッフだけの宿題メモ",
    "visibility": "staff",
}


def write(app, author, learner, **fields) -> int:
    with app.app_context():
        data = service.NoteInput(
            **{
                "subject": "英語",
                "body": "be動詞",
                "visibility": Visibility.LEARNER,
                **fields,
            }
        )
        note = service.create_note(user(author), user(learner), data)
        db.session.commit()
        return note.id


def test_tutor_writes_a_note_and_edits_keep_history(app, world):
    note_id = write(app, world.tutor, world.learner, homework="単語10個")
    with app.app_context():
        note = db.session.get(StudyNote, note_id)
        service.update_note(
            user(world.tutor),
            user(world.learner),
            note,
            service.NoteInput(
                subject="英語",
                body="be動詞と一般動詞",
                visibility=Visibility.STAFF,
                homework="単語20個",
            ),
        )
        db.session.commit()
        revisions = service.revisions(note)
        assert [r.before["body"] for r in revisions] == ["be動詞"]
        assert revisions[0].before["homework"] == "単語10個"
        assert revisions[0].before["visibility"] == "learner"
        assert revisions[0].editor_id == world.tutor.id
        assert note.body == "be動詞と一般動詞"
        assert note.visibility is Visibility.STAFF


def test_an_unchanged_save_adds_no_revision(app, world):
    note_id = write(app, world.tutor, world.learner)
    with app.app_context():
        note = db.session.get(StudyNote, note_id)
        same = service.NoteInput(subject="英語", body="be動詞", visibility=Visibility.LEARNER)
        service.update_note(user(world.tutor), user(world.learner), note, same)
        db.session.commit()
        assert db.session.query(NoteRevision).count() == 0


def test_service_refuses_tutors_of_other_learners_and_learners(app, world):
    with app.app_context():
        data = service.NoteInput(subject="数学", body="x", visibility=Visibility.LEARNER)
        with pytest.raises(AccessDenied):
            service.create_note(user(world.other_tutor), user(world.learner), data)
        with pytest.raises(AccessDenied):
            service.create_note(user(world.learner), user(world.learner), data)


def test_only_the_author_or_a_coordinator_edits_a_note(app, world, api):
    note_id = write(app, world.coordinator, world.learner)
    response = api(
        world.tutor, "PATCH", f"/api/v1/learners/{world.learner.id}/notes/{note_id}", {"body": "x"}
    )
    assert_error(response, 403, "forbidden")
    response = api(
        world.coordinator,
        "PATCH",
        f"/api/v1/learners/{world.learner.id}/notes/{note_id}",
        {"body": "書き直し"},
    )
    assert response.status_code == 200
    assert response.json["body"] == "書き直し"
    assert response.json["subject"] == "英語"  # untouched fields stay


def test_post_and_get_notes_through_the_api(world, api, book):
    session_id = book(tokyo(2026, 12, 1, 16, 0))[0]
    path = f"/api/v1/learners/{world.learner.id}/notes"
    created = api(world.tutor, "POST", path, {**NOTE, "session_id": session_id})
    assert created.status_code == 201
    note = created.json
    assert set(note) >= {
        "id",
        "learner_id",
        "session_id",
        "author_id",
        "subject",
        "body",
        "body_html",
        "homework",
        "visibility",
        "created_at",
        "updated_at",
    }
    assert note["learner_id"] == world.learner.id
    assert note["session_id"] == session_id
    assert note["author_id"] == world.tutor.id
    assert note["body_html"] == "<p><strong>一次方程式</strong>の文章題を2問。</p>\n"
    assert note["created_at"].endswith("+09:00")
    listed = api(world.coordinator, "GET", path)
    assert listed.status_code == 200
    assert [n["id"] for n in listed.json["notes"]] == [note["id"]]
    one = api(world.learner, "GET", f"{path}/{note['id']}")
    assert one.json["homework"] == "p.16 の 1〜4"


def test_script_in_a_note_comes_back_neutralised(world, api):
    path = f"/api/v1/learners/{world.learner.id}/notes"
    body = "<script>alert(1)</script>\n[x](javascript:alert(1))\n<img src=x onerror=alert(1)>"
    note = api(world.tutor, "POST", path, {**NOTE, "body": body}).json
    assert note["body"] == body  # kept as written, for editing
    assert "<script" not in note["body_html"]
    assert "<img" not in note["body_html"]
    assert 'href="javascript' not in note["body_html"]


def test_learner_reads_only_shared_notes_everywhere(app, client, login_as, world, api):
    shared = api(world.tutor, "POST", f"/api/v1/learners/{world.learner.id}/notes", NOTE).json
    staff = api(world.tutor, "POST", f"/api/v1/learners/{world.learner.id}/notes", STAFF_NOTE).json
    secret, secret_homework = STAFF_NOTE["body"], STAFF_NOTE["homework"]

    listed = api(world.learner, "GET", f"/api/v1/learners/{world.learner.id}/notes")
    assert [n["id"] for n in listed.json["notes"]] == [shared["id"]]
    assert secret not in listed.get_data(as_text=True)
    assert secret_homework not in listed.get_data(as_text=True)
    searched = api(world.learner, "GET", f"/api/v1/learners/{world.learner.id}/notes?q=眠れて")
    assert searched.json["notes"] == []
    direct = api(world.learner, "GET", f"/api/v1/learners/{world.learner.id}/notes/{staff['id']}")
    assert_error(direct, 404, "not_found")
    revisions = api(
        world.learner, "GET", f"/api/v1/learners/{world.learner.id}/notes/{shared['id']}/revisions"
    )
    assert revisions.status_code == 403
    record = api(world.learner, "GET", f"/api/v1/learners/{world.learner.id}")
    assert secret not in record.get_data(as_text=True)

    login_as(world.learner)
    for page in (
        "/my/record",
        "/",
        f"/learners/{world.learner.id}/notes",
        f"/learners/{world.learner.id}/notes/{staff['id']}",
        f"/learners/{world.learner.id}/notes?q=眠れて",
        f"/admin/learners/{world.learner.id}/export.json",
        f"/admin/learners/{world.learner.id}/export",
        "/learners?q=眠れて",
    ):
        text = client.get(page).get_data(as_text=True)
        assert secret not in text, page
        assert secret_homework not in text, page
    my_record = client.get("/my/record").get_data(as_text=True)
    assert "p.16 の 1〜4" in my_record
    assert "<strong>一次方程式</strong>" in my_record
    # Staff see both, marked.
    with app.app_context():
        learner = user(world.learner)
        assert len(service.visible_notes(user(world.tutor), learner)) == 2
        assert service.last_homework(learner, learner).id == shared["id"]
        assert service.last_homework(user(world.tutor), learner).id == staff["id"]


def test_other_tutor_and_other_learner_get_404(world, api):
    path = f"/api/v1/learners/{world.learner.id}/notes"
    note = api(world.tutor, "POST", path, NOTE).json
    for account in (world.other_tutor, world.other_learner):
        assert_error(api(account, "GET", path), 404, "not_found")
        assert_error(api(account, "POST", path, NOTE), 404, "not_found")
        assert_error(api(account, "GET", f"{path}/{note['id']}"), 404, "not_found")
        assert_error(api(account, "PATCH", f"{path}/{note['id']}", {"body": "x"}), 404, "not_found")
    assert_error(api(world.learner, "POST", path, NOTE), 403, "forbidden")
    assert_error(
        api(world.tutor, "GET", f"/api/v1/learners/{world.tutor.id}/notes"), 404, "not_found"
    )
    assert_error(api(world.tutor, "GET", "/api/v1/learners/99999/notes"), 404, "not_found")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**NOTE, "subject": ""}, "subject"),
        ({**NOTE, "subject": "x" * 51}, "subject"),
        ({k: v for k, v in NOTE.items() if k != "body"}, "body"),
        ({**NOTE, "body": 42}, "body"),
        ({**NOTE, "visibility": "everyone"}, "visibility"),
        ({k: v for k, v in NOTE.items() if k != "visibility"}, "visibility"),
        ({**NOTE, "homework": ["a"]}, "homework"),
        ({**NOTE, "session_id": "7"}, "session_id"),
        ({**NOTE, "whiteboard_snapshot_id": -1}, "whiteboard_snapshot_id"),
    ],
)
def test_bad_input_is_400_naming_the_field(world, api, body, field):
    response = api(world.tutor, "POST", f"/api/v1/learners/{world.learner.id}/notes", body)
    assert assert_error(response, 400, "invalid")["field"] == field


def test_session_of_another_learner_is_refused(world, api, book):
    other = book(tokyo(2026, 12, 2, 16, 0), learner=world.other_learner, tutor=world.other_tutor)[0]
    response = api(
        world.tutor,
        "POST",
        f"/api/v1/learners/{world.learner.id}/notes",
        {**NOTE, "session_id": other},
    )
    assert assert_error(response, 400, "invalid")["field"] == "session_id"


def test_not_json_is_400(world, client, make_token):
    token = make_token(world.tutor)
    response = client.post(
        f"/api/v1/learners/{world.learner.id}/notes",
        data="subject=x",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert assert_error(response, 400, "invalid")["field"] == "body"


def test_session_cookie_needs_the_csrf_header(app, client, login_as, world):
    app.config["WTF_CSRF_ENABLED"] = True
    login_as(world.tutor)
    response = client.post(f"/api/v1/learners/{world.learner.id}/notes", json=NOTE)
    assert_error(response, 400, "csrf")
    from tests.conftest import csrf_token

    token = csrf_token(client, "/settings")
    response = client.post(
        f"/api/v1/learners/{world.learner.id}/notes", json=NOTE, headers={"X-CSRFToken": token}
    )
    assert response.status_code == 201


def test_notes_pages_write_edit_and_show_history(client, login_as, world):
    from tests.records.conftest import form_post

    login_as(world.tutor)
    new = f"/learners/{world.learner.id}/notes/new"
    response = form_post(
        client,
        new,
        {
            "session_id": "",
            "subject": "国語",
            "material": "過去問",
            "pages": "p.3",
            "body": "漢字の読み",
            "homework": "音読",
            "next_steps": "",
            "visibility": "learner",
        },
    )
    assert response.status_code == 302
    show = response.headers["Location"]
    note_id = int(show.rsplit("/", 1)[1])
    edit = f"/learners/{world.learner.id}/notes/{note_id}/edit"
    response = form_post(
        client,
        edit,
        {"subject": "国語", "body": "漢字の書き", "homework": "", "visibility": "staff"},
    )
    assert response.status_code == 302
    page = client.get(show).get_data(as_text=True)
    assert "漢字の書き" in page
    assert "漢字の読み" in page  # the version before the edit
    assert "Staff only" in page
    missing = form_post(client, new, {"subject": "", "body": "", "visibility": ""})
    text = missing.get_data(as_text=True)
    assert missing.status_code == 200
    assert 'id="subject-error"' in text
    assert 'id="body-error"' in text
    assert 'id="visibility-error"' in text
