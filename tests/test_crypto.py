"""Sensitive text is encrypted at rest: no plain text in the rows, keys rotate, a wrong key says so."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from tests.conftest import BASE_CONFIG, tokyo
from tutoring import create_app
from tutoring.crypto import DecryptionError, decrypt, new_key
from tutoring.extensions import db
from tutoring.people.models import User
from tutoring.scheduling import service as scheduling
from tutoring.scheduling.models import TutoringSession

REASON = "母親の入院のため（本人から電話）"
KEY_1, KEY_2 = new_key(), new_key()


@pytest.fixture
def app_config():
    return {"DATA_KEYS": {"k1": KEY_1}, "DATA_KEY_CURRENT": "k1"}


@pytest.fixture
def cancelled(app, program, book):
    [session_id] = book(tokyo(2026, 12, 1, 16, 0))
    with app.app_context():
        scheduling.cancel(
            db.session.get(User, program.coordinator.id),
            db.session.get(TutoringSession, session_id),
            reason=REASON,
        )
        db.session.commit()
    return session_id


def raw_values(app) -> list[str]:
    with app.app_context():
        rows = db.session.execute(
            text("SELECT cancel_reason FROM sessions UNION ALL SELECT reason FROM session_changes")
        )
        return [value for (value,) in rows if value]


def test_rows_hold_no_plain_text(app, cancelled):
    stored = raw_values(app)
    assert len(stored) == 2
    assert all(value.startswith("enc1:k1:") for value in stored)
    assert not any("入院" in value for value in stored)
    with app.app_context():
        assert db.session.get(TutoringSession, cancelled).cancel_reason == REASON


def test_rotation_re_encrypts_with_the_new_key(app, cancelled, runner):
    app.config.update(DATA_KEYS={"k1": KEY_1, "k2": KEY_2}, DATA_KEY_CURRENT="k2")
    from tutoring.crypto import configured_keys

    app.extensions["data_keys"] = configured_keys(app.config)
    result = runner.invoke(args=["data-keys", "rotate"])
    assert result.exit_code == 0, result.output
    assert "re-encrypted 2 values" in result.output
    assert all(value.startswith("enc1:k2:") for value in raw_values(app))
    # Once rotated, the old key can go.
    app.extensions["data_keys"] = ("k2", {"k2": app.extensions["data_keys"][1]["k2"]})
    with app.app_context():
        db.session.expire_all()
        assert db.session.get(TutoringSession, cancelled).cancel_reason == REASON


def test_a_wrong_key_is_a_clear_error_not_garbage(app, cancelled):
    from tutoring.crypto import configured_keys

    app.extensions["data_keys"] = configured_keys(
        {"DATA_KEYS": {"k1": KEY_2}, "DATA_KEY_CURRENT": "k1"}
    )
    [stored, _] = raw_values(app)
    with app.app_context(), pytest.raises(DecryptionError, match="does not open this value"):
        decrypt(stored)
    app.extensions["data_keys"] = configured_keys(
        {"DATA_KEYS": {"k9": KEY_2}, "DATA_KEY_CURRENT": "k9"}
    )
    with app.app_context(), pytest.raises(DecryptionError, match="no key 'k1'"):
        decrypt(stored)


def test_production_without_data_keys_refuses_to_start(tmp_path, monkeypatch):
    monkeypatch.delenv("TUTORING_DATA_KEYS", raising=False)
    config = {**BASE_CONFIG, "TESTING": False, "ENV": "production"}
    with pytest.raises(RuntimeError, match="TUTORING_DATA_KEYS"):
        create_app(config, instance_path=str(tmp_path))
    with pytest.raises(RuntimeError, match="32 bytes"):
        create_app(
            {**config, "DATA_KEYS": {"k1": "c2hvcnQ="}, "DATA_KEY_CURRENT": "k1"},
            instance_path=str(tmp_path),
        )


def test_study_notes_revisions_and_case_reviews_hold_no_plain_text(app, program):
    from datetime import date

    from tutoring.notes.models import CaseReview, NoteRevision, StudyNote, Visibility
    from tutoring.notes.service import visible_notes

    with app.app_context():
        note = StudyNote(
            learner_id=program.learner.id,
            author_id=program.tutor.id,
            subject="数学",
            body="不登校の理由について本人が話してくれた",
            homework="一次関数の問題",
            visibility=Visibility.STAFF,
        )
        db.session.add(note)
        db.session.flush()
        db.session.add(
            NoteRevision(
                note_id=note.id,
                editor_id=program.tutor.id,
                before={"body": "以前の本文：家庭のこと"},
            )
        )
        db.session.add(
            CaseReview(
                learner_id=program.learner.id,
                held_on=date(2026, 7, 1),
                situation="家庭の状況",
                decisions="週2回に増やす",
            )
        )
        db.session.commit()
        raw = " ".join(
            str(value)
            for table in ("study_notes", "study_note_revisions", "case_reviews")
            for row in db.session.execute(text(f"SELECT * FROM {table}"))  # noqa: S608
            for value in row
        )
        for secret in ("不登校", "一次関数", "家庭", "週2回"):
            assert secret not in raw
        # Search still finds notes by their (decrypted) text.
        tutor = db.session.get(User, program.tutor.id)
        learner = db.session.get(User, program.learner.id)
        from tutoring.people.models import TutorAssignment

        db.session.add(TutorAssignment(learner_id=learner.id, tutor_id=tutor.id))
        db.session.commit()
        assert [n.id for n in visible_notes(tutor, learner, q="一次関数")] == [note.id]
        assert visible_notes(tutor, learner, q="英語") == []
