"""JSON API v1 for learner records and study notes.

`GET /learners/<id>`: staff of the learner, the learner. `GET, POST /learners/<id>/notes`:
the learner's tutors and coordinators; the learner reads the notes shared with them only.
Staff reads are written to the audit log; a learner the caller may not see is 404.
"""

from __future__ import annotations

from flask import jsonify, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from tutoring.api.views import bp, json_body
from tutoring.extensions import db
from tutoring.notes import service as notes
from tutoring.notes.models import Visibility
from tutoring.records import access, audit, serialize, service
from tutoring.validation import ValidationError, choice, text


def _optional_id(data: dict, name: str) -> int | None:
    value = data.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 2**31:
        raise ValidationError(name, _l("Must be a whole number."))
    return value


def _note_input(data: dict, base: notes.NoteInput | None = None) -> notes.NoteInput:
    """Return the note fields of a JSON body; with base, only the keys given change."""

    def given(name: str) -> bool:
        return base is None or name in data

    values = {}
    if given("subject"):
        values["subject"] = text(data, "subject", max_length=50)
    if given("body"):
        values["body"] = text(data, "body", max_length=20000)
    if given("visibility"):
        values["visibility"] = choice(data, "visibility", Visibility)
    for name, limit in (("homework", 5000), ("material", 200), ("pages", 50), ("next_steps", 5000)):
        if given(name):
            values[name] = text(data, name, max_length=limit, required=False) or ""
    for name in ("session_id", "whiteboard_snapshot_id"):
        if given(name):
            values[name] = _optional_id(data, name)
    if base is None:
        return notes.NoteInput(**values)
    merged = {**base.__dict__, **values}
    return notes.NoteInput(**merged)


def _existing_input(note) -> notes.NoteInput:
    return notes.NoteInput(
        subject=note.subject,
        body=note.body,
        visibility=note.visibility,
        homework=note.homework,
        material=note.material,
        pages=note.pages,
        next_steps=note.next_steps,
        session_id=note.session_id,
        whiteboard_snapshot_id=note.whiteboard_snapshot_id,
    )


@bp.get("/learners/<int:learner_id>")
def learner_record(learner_id: int):
    """Return a learner's profile, tutors, goals, plan, exam progress and consent."""
    learner = access.learner_or_404(current_user, learner_id, self_allowed=True)
    profile = service.profile_of(learner)
    consent = service.current_consent(learner)
    body = {
        "id": learner.id,
        "profile": serialize.profile_json(learner, profile, service.is_minor(profile)),
        "tutors": [serialize.person_json(t) for t in service.assigned_tutors(learner)],
        "goals": [serialize.goal_json(g) for g in service.goals(learner)],
        "plan": [serialize.plan_json(item) for item in service.plan(learner)],
        "exam_progress": serialize.progress_json(service.exam_progress(learner)),
        "consent": {
            "required": bool(service.is_minor(profile)),
            "missing": service.consent_missing(learner),
            "current": serialize.consent_json(consent) if consent else None,
        },
    }
    audit.record_read(current_user, "record", learner_id=learner.id)
    db.session.commit()
    return jsonify(body)


@bp.get("/learners/<int:learner_id>/notes")
def learner_notes(learner_id: int):
    """List the notes the caller may read, newest first; `q` searches them."""
    learner = access.learner_or_404(current_user, learner_id, self_allowed=True)
    q = request.args.get("q", "").strip()[:100]
    found = notes.visible_notes(current_user, learner, q=q or None)
    audit.record_read(current_user, "notes", learner_id=learner.id)
    db.session.commit()
    return jsonify({"notes": [serialize.note_json(n) for n in found]})


@bp.post("/learners/<int:learner_id>/notes")
def create_learner_note(learner_id: int):
    """Write a note: {session_id?, subject, body (Markdown), homework?, visibility}."""
    learner = access.learner_or_404(current_user, learner_id, self_allowed=True)
    access.require(access.can_write_notes(current_user, learner))
    note = notes.create_note(current_user, learner, _note_input(json_body()))
    db.session.commit()
    return jsonify(serialize.note_json(note)), 201


@bp.get("/learners/<int:learner_id>/notes/<int:note_id>")
def learner_note(learner_id: int, note_id: int):
    """Return one note the caller may read."""
    learner = access.learner_or_404(current_user, learner_id, self_allowed=True)
    note = notes.visible_note(current_user, learner, note_id)
    audit.record_read(current_user, "note", learner_id=learner.id, target_id=note.id)
    db.session.commit()
    return jsonify(serialize.note_json(note))


@bp.patch("/learners/<int:learner_id>/notes/<int:note_id>")
def update_learner_note(learner_id: int, note_id: int):
    """Change a note (its author or a coordinator); the earlier version is kept."""
    learner = access.learner_or_404(current_user, learner_id, self_allowed=True)
    note = notes.visible_note(current_user, learner, note_id)
    access.require(access.can_edit_note(current_user, learner, note.author_id))
    notes.update_note(current_user, learner, note, _note_input(json_body(), _existing_input(note)))
    db.session.commit()
    return jsonify(serialize.note_json(note))


@bp.get("/learners/<int:learner_id>/notes/<int:note_id>/revisions")
def learner_note_revisions(learner_id: int, note_id: int):
    """Return the earlier versions of a note (staff of the learner)."""
    learner = access.learner_or_404(current_user, learner_id, self_allowed=True)
    note = notes.visible_note(current_user, learner, note_id)
    access.require(access.can_see_record(current_user, learner))
    audit.record_read(current_user, "note", learner_id=learner.id, target_id=note.id)
    db.session.commit()
    return jsonify({"revisions": [serialize.revision_json(r) for r in notes.revisions(note)]})
