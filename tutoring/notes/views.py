"""Pages of study notes and case reviews, and the note panel of the room page."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice

from tutoring.auth.permissions import roles_required
from tutoring.extensions import db
from tutoring.forms_util import attach_error
from tutoring.i18n import program_zone
from tutoring.notes import service
from tutoring.notes.forms import CaseReviewForm, NoteForm
from tutoring.notes.models import CaseReview, StudyNote, Visibility
from tutoring.people.models import Role, User
from tutoring.records import access, audit
from tutoring.records import service as records
from tutoring.scheduling.models import TutoringSession
from tutoring.validation import ValidationError

bp = Blueprint("notes", __name__)

staff_only = roles_required(Role.TUTOR, Role.COORDINATOR, Role.ADMIN)
PANEL_PREFIX = "note"


def _learner(learner_id: int) -> User:
    return access.learner_or_404(current_user, learner_id)


def _note_input(form: NoteForm) -> service.NoteInput:
    return service.NoteInput(
        subject=form.subject.data or "",
        body=form.body.data or "",
        visibility=Visibility(form.visibility.data) if form.visibility.data else None,
        homework=form.homework.data or "",
        material=form.material.data or "",
        pages=form.pages.data or "",
        next_steps=form.next_steps.data or "",
        session_id=form.session_id.data,
    )


def _session_choices(learner: User) -> list[SelectChoice]:
    zone = program_zone()
    sessions = db.session.scalars(
        select(TutoringSession)
        .where(TutoringSession.learner_id == learner.id)
        .order_by(TutoringSession.starts_at.desc())
        .limit(40)
    )
    return [SelectChoice("", _("No session"))] + [
        SelectChoice(str(s.id), s.starts_at.astimezone(zone).strftime("%Y-%m-%d %H:%M"))
        for s in sessions
    ]


def _subject_names() -> list[str]:
    return [s.name for s in records.list_subjects(active_only=True)]


# Study notes


@bp.get("/learners/<int:learner_id>/notes")
@staff_only
def index(learner_id: int):
    """List the learner's notes, newest first; `q` searches them."""
    learner = _learner(learner_id)
    q = request.args.get("q", "").strip()[:100]
    found = service.visible_notes(current_user, learner, q=q or None)
    audit.record_read(current_user, "notes", learner_id=learner.id)
    db.session.commit()
    return render_template(
        "notes/index.html",
        learner=learner,
        notes=found,
        q=q,
        can_write=access.can_write_notes(current_user, learner),
    )


@bp.route("/learners/<int:learner_id>/notes/new", methods=["GET", "POST"])
@bp.route("/learners/<int:learner_id>/notes/<int:note_id>/edit", methods=["GET", "POST"])
@staff_only
def edit(learner_id: int, note_id: int | None = None):
    """Write a study note after a session, or change one (the change is kept in its history)."""
    learner = _learner(learner_id)
    note = service.visible_note(current_user, learner, note_id) if note_id else None
    if note is None:
        access.require(access.can_write_notes(current_user, learner))
    else:
        access.require(access.can_edit_note(current_user, learner, note.author_id))
    form = NoteForm(obj=note if request.method == "GET" else None)
    form.session_id.choices = _session_choices(learner)
    if request.method == "GET":
        if note is not None:
            form.visibility.data = note.visibility.value
            audit.record_read(current_user, "note", learner_id=learner.id, target_id=note.id)
            db.session.commit()
        else:
            session_id = request.args.get("session_id", "")
            form.session_id.data = int(session_id) if session_id.isdigit() else None
    if form.validate_on_submit():
        try:
            if note is None:
                note = service.create_note(current_user, learner, _note_input(form))
            else:
                service.update_note(current_user, learner, note, _note_input(form))
        except ValidationError as error:
            db.session.rollback()
            attach_error(form, error)
        else:
            db.session.commit()
            flash(_("The note has been saved."), "success")
            return redirect(url_for("notes.show", learner_id=learner.id, note_id=note.id))
    return render_template(
        "notes/form.html", form=form, learner=learner, note=note, subjects=_subject_names()
    )


@bp.get("/learners/<int:learner_id>/notes/<int:note_id>")
@staff_only
def show(learner_id: int, note_id: int):
    """Show a note and the versions it had before each edit."""
    learner = _learner(learner_id)
    note = service.visible_note(current_user, learner, note_id)
    audit.record_read(current_user, "note", learner_id=learner.id, target_id=note.id)
    db.session.commit()
    return render_template(
        "notes/show.html",
        learner=learner,
        note=note,
        revisions=service.revisions(note),
        can_edit=access.can_edit_note(current_user, learner, note.author_id),
    )


# The room's note panel


def _panel_form(note: StudyNote | None) -> NoteForm:
    form = NoteForm(prefix=PANEL_PREFIX, obj=note, formdata=None)
    if note is not None:
        form.visibility.data = note.visibility.value
    return form


def room_panel(session: TutoringSession) -> dict | None:
    """Return what the room's note panel shows the session's tutor; None for anyone else."""
    if not current_user.is_authenticated or current_user.id != session.tutor_id:
        return None
    learner = session.learner
    if not access.can_write_notes(current_user, learner):
        return None
    note = service.session_note(current_user, session)
    audit.record_read_at_end(current_user, "room_panel", learner_id=learner.id)
    return {
        "learner": learner,
        "goals": records.goals(learner, open_only=True),
        "homework": service.last_homework(current_user, learner),
        "note": note,
        "form": _panel_form(note),
        "subjects": _subject_names(),
        "action": url_for("notes.from_room", session_id=session.id),
        "api_url": url_for("api.learner_notes", learner_id=learner.id),
        "note_url": url_for("api.learner_note", learner_id=learner.id, note_id=note.id)
        if note
        else "",
    }


@bp.app_context_processor
def room_panel_context() -> dict:
    """Let the room page include the note panel: `notes_room_panel(session)`."""
    return {"notes_room_panel": room_panel}


@bp.post("/sessions/<int:session_id>/note")
@staff_only
def from_room(session_id: int):
    """Save the session's note from the room panel without scripts, then return to the room."""
    session = db.session.get(TutoringSession, session_id)
    if session is None or session.tutor_id != current_user.id:
        raise access.NotVisible
    learner = session.learner
    access.require(access.can_write_notes(current_user, learner))
    form = NoteForm(prefix=PANEL_PREFIX)
    form.session_id.choices = [SelectChoice(str(session.id), "")]
    form.session_id.data = session.id
    room = url_for("rooms.room", session_id=session.id) + "#note-panel"
    if not form.validate_on_submit():
        message = next(iter(form.errors.values()))[0] if form.errors else ""
        flash(_("The note was not saved: %(reason)s", reason=message), "error")
        return redirect(room)
    data = _note_input(form)
    data.session_id = session.id
    existing = service.session_note(current_user, session)
    try:
        if existing is None:
            service.create_note(current_user, learner, data)
        else:
            service.update_note(current_user, learner, existing, data)
    except ValidationError as error:
        db.session.rollback()
        flash(_("The note was not saved: %(reason)s", reason=error.message), "error")
    else:
        db.session.commit()
        flash(_("The note has been saved."), "success")
    return redirect(room)


# Case reviews


@bp.get("/reviews")
@staff_only
def reviews():
    """List the learners due for a case review around an exam round, and recent reviews."""
    return render_template(
        "notes/reviews.html",
        due=service.reviews_due(current_user),
        recent=service.recent_reviews(current_user),
        can_review=access.is_manager(current_user),
    )


@bp.route("/learners/<int:learner_id>/reviews/new", methods=["GET", "POST"])
@bp.route("/learners/<int:learner_id>/reviews/<int:review_id>", methods=["GET", "POST"])
@staff_only
def review(learner_id: int, review_id: int | None = None):
    """Record a case review, or read and change one (tutors of the learner read them)."""
    learner = _learner(learner_id)
    item = db.session.get(CaseReview, review_id) if review_id else None
    if review_id and (item is None or item.learner_id != learner.id):
        raise access.NotVisible
    can_write = access.can_write_case_reviews(current_user, learner)
    if item is None or request.method == "POST":
        access.require(can_write)
    form = CaseReviewForm(obj=item if request.method == "GET" else None)
    if request.method == "GET":
        if item is None:
            form.held_on.data = records.today()
        else:
            audit.record_read(current_user, "case_review", learner_id=learner.id, target_id=item.id)
            db.session.commit()
    if form.validate_on_submit():
        try:
            service.save_case_review(
                current_user,
                learner,
                item,
                held_on=form.held_on.data,
                participants=form.participants.data,
                situation=form.situation.data,
                decisions=form.decisions.data,
                next_review_on=form.next_review_on.data,
            )
        except ValidationError as error:
            db.session.rollback()
            attach_error(form, error)
        else:
            db.session.commit()
            flash(_("The case review has been saved."), "success")
            return redirect(url_for("records.record", learner_id=learner.id) + "#timeline")
    return render_template(
        "notes/review.html", form=form, learner=learner, item=item, can_write=can_write
    )
