"""Pages of learner records: the learners list, a learner's record and its parts, the learner's
own page, subjects and exam rounds, and the admin's audit log, export and erasure."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from typing import Any

from flask import (
    Blueprint,
    Response,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice

from tutoring.auth.forms import EmptyForm
from tutoring.auth.permissions import roles_required
from tutoring.extensions import db
from tutoring.forms_util import attach_error
from tutoring.i18n import program_zone
from tutoring.notes import markdown
from tutoring.people.models import (
    AgeBand,
    ContactMethod,
    LearnerStatus,
    Role,
    SchoolSituation,
    User,
)
from tutoring.people.service import list_users
from tutoring.records import access, audit, forms, labels, privacy, service, timeline
from tutoring.records.models import (
    ConsentMethod,
    Consultation,
    CreditSource,
    ExamAttempt,
    ExamRound,
    ExamSubject,
    Goal,
    GoalStatus,
    GuardianConsent,
    Outcome,
    OutcomeKind,
    PlanItem,
    SubjectCredit,
    SubjectKind,
    SubjectResult,
)
from tutoring.scheduling.models import Kind, TutoringSession
from tutoring.validation import ValidationError

bp = Blueprint("records", __name__)

STAFF = (Role.TUTOR, Role.COORDINATOR, Role.ADMIN)
staff_only = roles_required(*STAFF)
admins_only = roles_required(Role.ADMIN)


@bp.app_context_processor
def record_labels() -> dict:
    """Give templates the words for record values (statuses, outcomes, ...) and profiles."""
    return {
        "record_labels": labels.for_templates(),
        "learner_profile": service.profile_of,
        "note_html": markdown.render,
    }


def _learner(learner_id: int) -> User:
    return access.learner_or_404(current_user, learner_id)


def _item(model, item_id: int, learner: User):
    """Return a row of the learner's record, or 404."""
    item = db.session.get(model, item_id)
    if item is None or item.learner_id != learner.id:
        raise access.NotVisible
    return item


def _save(form, action: Callable[[], Any], message: str, target: str):
    """Run a service call for a valid form: commit and redirect, or show the error on the form."""
    try:
        action()
    except ValidationError as error:
        db.session.rollback()
        attach_error(form, error)
        return None
    db.session.commit()
    flash(message, "success")
    return redirect(target)


def _record_url(learner: User, anchor: str = "") -> str:
    return url_for("records.record", learner_id=learner.id) + (f"#{anchor}" if anchor else "")


def _form_page(form, title: str, learner: User | None, back: str, **extra):
    return render_template(
        "records/form.html", form=form, title=title, learner=learner, back=back, **extra
    )


def _int_arg(name: str) -> int | None:
    value = request.args.get(name, "")
    return int(value) if value.isdigit() and len(value) < 10 else None


# The learners list and a learner's record


@bp.get("/learners")
@staff_only
def index():
    """List the learners the user supports (all of them for coordinators), searched and filtered."""
    status_value = request.args.get("status", "")
    status = LearnerStatus(status_value) if status_value in set(LearnerStatus) else None
    q = request.args.get("q", "").strip()[:100]
    tutor_id = _int_arg("tutor_id") if access.is_manager(current_user) else None
    rows = service.list_learners(current_user, q=q or None, status=status, tutor_id=tutor_id)
    return render_template(
        "records/index.html",
        rows=rows,
        q=q,
        status=status,
        tutor_id=tutor_id,
        tutors=list_users(Role.TUTOR) if access.is_manager(current_user) else [],
        statuses=list(LearnerStatus),
    )


@bp.get("/learners/<int:learner_id>")
@staff_only
def record(learner_id: int):
    """Show a learner's whole record: overview, goals, plan, exams, and the timeline."""
    learner = _learner(learner_id)
    context = timeline.record_overview(current_user, learner)
    events = timeline.timeline(current_user, learner)
    audit.record_read(current_user, "record", learner_id=learner.id)
    db.session.commit()
    return render_template(
        "records/record.html",
        events=events,
        erased=access.is_erased(learner),
        can_manage=access.can_manage(current_user, learner),
        can_write_plan=access.can_write_plan(current_user, learner),
        can_write_notes=access.can_write_notes(current_user, learner),
        can_review=access.can_write_case_reviews(current_user, learner),
        is_admin=access.can_audit(current_user),
        status_form=forms.StatusForm(
            formdata=None,
            status=context["profile"].status.value if context["profile"] else "active",
            since=service.today(),
        ),
        **context,
    )


# Profile, status and consent


def _coordinator_choices() -> list[SelectChoice]:
    return [SelectChoice("", _("None"))] + [
        SelectChoice(str(u.id), u.name) for u in service.coordinators()
    ]


@bp.route("/learners/<int:learner_id>/profile", methods=["GET", "POST"])
@staff_only
def profile(learner_id: int):
    """Change the learner's profile (coordinators and admins)."""
    learner = _learner(learner_id)
    access.require(access.can_manage(current_user, learner) and not access.is_erased(learner))
    current = service.profile_of(learner)
    form = forms.ProfileForm()
    form.coordinator_id.choices = _coordinator_choices()
    if request.method == "GET":
        form.name.data = learner.name
        if current is not None:
            form.furigana.data = current.furigana
            form.birth_year.data = current.birth_year
            form.age_band.data = current.age_band.value if current.age_band else ""
            form.school_situation.data = (
                current.school_situation.value if current.school_situation else ""
            )
            form.enrolled_on.data = current.enrolled_on
            form.coordinator_id.data = current.coordinator_id
            form.preferred_contact.data = (
                current.preferred_contact.value if current.preferred_contact else ""
            )
            form.contact_detail.data = current.contact_detail
        audit.record_read(current_user, "profile", learner_id=learner.id)
        db.session.commit()
    elif form.validate_on_submit():
        done = _save(
            form,
            lambda: service.save_profile(
                current_user,
                learner,
                name=form.name.data,
                furigana=form.furigana.data,
                birth_year=form.birth_year.data,
                age_band=forms.member(AgeBand, form.age_band.data),
                school_situation=forms.member(SchoolSituation, form.school_situation.data),
                enrolled_on=form.enrolled_on.data,
                preferred_contact=forms.member(ContactMethod, form.preferred_contact.data),
                contact_detail=form.contact_detail.data,
                coordinator=db.session.get(User, form.coordinator_id.data)
                if form.coordinator_id.data
                else None,
            ),
            _("The profile has been saved."),
            _record_url(learner),
        )
        if done:
            return done
    return _form_page(
        form, _("Profile of %(name)s", name=learner.name), learner, _record_url(learner)
    )


@bp.post("/learners/<int:learner_id>/status")
@staff_only
def status(learner_id: int):
    """Change the support status from a date."""
    learner = _learner(learner_id)
    access.require(access.can_manage(current_user, learner))
    form = forms.StatusForm()
    if form.validate_on_submit():
        done = _save(
            form,
            lambda: service.set_status(
                current_user, learner, LearnerStatus(form.status.data), form.since.data
            ),
            _("The support status has been changed."),
            _record_url(learner),
        )
        if done:
            return done
    return _form_page(form, _("Support status"), learner, _record_url(learner))


@bp.route("/learners/<int:learner_id>/consent", methods=["GET", "POST"])
@staff_only
def consent(learner_id: int):
    """Show and record guardian consent (coordinators and admins)."""
    learner = _learner(learner_id)
    access.require(access.can_manage(current_user, learner))
    form = forms.ConsentForm()
    if form.validate_on_submit():
        done = _save(
            form,
            lambda: service.record_consent(
                current_user,
                learner,
                given_by=form.given_by.data,
                given_on=form.given_on.data,
                method=ConsentMethod(form.method.data),
            ),
            _("The guardian's consent has been recorded."),
            url_for("records.consent", learner_id=learner.id),
        )
        if done:
            return done
    elif request.method == "GET":
        form.given_on.data = service.today()
        audit.record_read(current_user, "consent", learner_id=learner.id)
        db.session.commit()
    return render_template(
        "records/consent.html",
        learner=learner,
        form=form,
        consents=service.consents(learner),
        minor=service.is_minor(service.profile_of(learner)),
        withdraw_form=forms.WithdrawConsentForm(formdata=None, withdrawn_on=service.today()),
        erased=access.is_erased(learner),
    )


@bp.post("/learners/<int:learner_id>/consent/<int:consent_id>/withdraw")
@staff_only
def withdraw_consent(learner_id: int, consent_id: int):
    learner = _learner(learner_id)
    access.require(access.can_manage(current_user, learner))
    item = _item(GuardianConsent, consent_id, learner)
    form = forms.WithdrawConsentForm()
    if form.validate_on_submit():
        try:
            service.withdraw_consent(current_user, learner, item, form.withdrawn_on.data)
        except ValidationError as error:
            db.session.rollback()
            flash(str(error.message), "error")
        else:
            db.session.commit()
            flash(_("The consent has been marked as withdrawn."), "success")
    return redirect(url_for("records.consent", learner_id=learner.id))


# Consultations, goals and the plan


def _consultation_sessions(learner: User) -> list[SelectChoice]:
    sessions = db.session.scalars(
        select(TutoringSession)
        .where(TutoringSession.learner_id == learner.id, TutoringSession.kind == Kind.CONSULTATION)
        .order_by(TutoringSession.starts_at.desc())
    )
    zone = program_zone()
    return [SelectChoice("", _("None"))] + [
        SelectChoice(str(s.id), s.starts_at.astimezone(zone).strftime("%Y-%m-%d %H:%M"))
        for s in sessions
    ]


@bp.route("/learners/<int:learner_id>/consultations/new", methods=["GET", "POST"])
@bp.route("/learners/<int:learner_id>/consultations/<int:item_id>", methods=["GET", "POST"])
@staff_only
def consultation(learner_id: int, item_id: int | None = None):
    """Record or change a learning consultation (coordinators and admins)."""
    learner = _learner(learner_id)
    access.require(access.can_manage(current_user, learner) and not access.is_erased(learner))
    item = _item(Consultation, item_id, learner) if item_id else None
    form = forms.ConsultationForm(obj=item if request.method == "GET" else None)
    form.session_id.choices = _consultation_sessions(learner)
    if request.method == "GET":
        if item is None:
            form.held_on.data = service.today()
        else:
            audit.record_read(
                current_user, "consultation", learner_id=learner.id, target_id=item.id
            )
            db.session.commit()
    elif form.validate_on_submit():
        done = _save(
            form,
            lambda: service.save_consultation(
                current_user,
                learner,
                item,
                held_on=form.held_on.data,
                own_words=form.own_words.data,
                notes=form.notes.data,
                session_id=form.session_id.data,
            ),
            _("The consultation has been saved."),
            _record_url(learner, "timeline"),
        )
        if done:
            return done
    return _form_page(form, _("Learning consultation"), learner, _record_url(learner))


@bp.route("/learners/<int:learner_id>/goals/new", methods=["GET", "POST"])
@bp.route("/learners/<int:learner_id>/goals/<int:item_id>", methods=["GET", "POST"])
@staff_only
def goal(learner_id: int, item_id: int | None = None):
    """Add or change a goal (tutors of the learner, coordinators)."""
    learner = _learner(learner_id)
    access.require(access.can_write_plan(current_user, learner))
    item = _item(Goal, item_id, learner) if item_id else None
    form = forms.GoalForm(obj=item if request.method == "GET" else None)
    if request.method == "GET" and item is not None:
        form.status.data = item.status.value
    if form.validate_on_submit():
        done = _save(
            form,
            lambda: service.save_goal(
                current_user,
                learner,
                item,
                text=form.text.data,
                target_on=form.target_on.data,
                status=GoalStatus(form.status.data),
            ),
            _("The goal has been saved."),
            _record_url(learner, "goals"),
        )
        if done:
            return done
    return _form_page(form, _("Goal"), learner, _record_url(learner, "goals"))


def _round_choices(blank: str) -> list[SelectChoice]:
    return [SelectChoice("", blank)] + [
        SelectChoice(str(r.id), labels.round_label(r)) for r in service.list_rounds()
    ]


@bp.route("/learners/<int:learner_id>/plan/new", methods=["GET", "POST"])
@bp.route("/learners/<int:learner_id>/plan/<int:item_id>", methods=["GET", "POST"])
@staff_only
def plan_item(learner_id: int, item_id: int | None = None):
    """Set the materials and plan of a subject (tutors of the learner, coordinators)."""
    learner = _learner(learner_id)
    access.require(access.can_write_plan(current_user, learner))
    item = _item(PlanItem, item_id, learner) if item_id else None
    form = forms.PlanForm(obj=item if request.method == "GET" else None)
    form.subject_id.choices = [SelectChoice("", _("Choose a subject"))] + [
        SelectChoice(str(s.id), s.name) for s in service.list_subjects(active_only=True)
    ]
    form.target_round_id.choices = _round_choices(_("Not decided"))
    if request.method == "GET" and item is None:
        form.subject_id.data = _int_arg("subject_id")
    if form.validate_on_submit():
        done = _save(
            form,
            lambda: service.save_plan_item(
                current_user,
                learner,
                subject=db.session.get(ExamSubject, form.subject_id.data)
                if form.subject_id.data
                else None,
                materials=form.materials.data,
                plan_text=form.plan.data,
                target_round=db.session.get(ExamRound, form.target_round_id.data)
                if form.target_round_id.data
                else None,
            ),
            _("The plan has been saved."),
            _record_url(learner, "plan"),
        )
        if done:
            return done
    delete_url = (
        url_for("records.delete_plan_item", learner_id=learner.id, item_id=item.id)
        if item
        else None
    )
    return _form_page(
        form, _("Learning plan"), learner, _record_url(learner, "plan"), delete_url=delete_url
    )


@bp.post("/learners/<int:learner_id>/plan/<int:item_id>/delete")
@staff_only
def delete_plan_item(learner_id: int, item_id: int):
    learner = _learner(learner_id)
    item = _item(PlanItem, item_id, learner)
    if EmptyForm().validate_on_submit():
        service.delete_plan_item(current_user, learner, item)
        db.session.commit()
        flash(_("The subject has been removed from the plan."), "success")
    return redirect(_record_url(learner, "plan"))


# Exams, credits and outcomes


@bp.get("/learners/<int:learner_id>/exams")
@staff_only
def exams(learner_id: int):
    """Show the learner's exam progress per subject, attempts and credits."""
    learner = _learner(learner_id)
    audit.record_read(current_user, "exam_attempt", learner_id=learner.id)
    db.session.commit()
    return render_template(
        "records/exams.html",
        learner=learner,
        progress=service.exam_progress(learner),
        attempts=service.attempts(learner),
        credits=service.credits(learner),
        can_write_plan=access.can_write_plan(current_user, learner),
        can_manage=access.can_manage(current_user, learner) and not access.is_erased(learner),
        action_form=EmptyForm(),
    )


@bp.route("/learners/<int:learner_id>/exams/new", methods=["GET", "POST"])
@bp.route("/learners/<int:learner_id>/exams/<int:item_id>", methods=["GET", "POST"])
@staff_only
def attempt(learner_id: int, item_id: int | None = None):
    """Record a sitting of an exam round with each subject's result."""
    learner = _learner(learner_id)
    access.require(access.can_write_plan(current_user, learner))
    item = _item(ExamAttempt, item_id, learner) if item_id else None
    subjects = (
        service.list_subjects(active_only=item is None)
        if item is None
        else [
            s
            for s in service.list_subjects()
            if s.active or any(x.subject_id == s.id for x in item.subjects)
        ]
    )
    data = None
    if request.method == "GET" and item is not None:
        data = {"round_id": item.round_id, "certificate_obtained": item.certificate_obtained}
        data.update({f"subject_{x.subject_id}": x.result.value for x in item.subjects})
    form = forms.attempt_form(subjects, service.list_rounds(), data)
    if form.validate_on_submit():
        results = {
            s.id: SubjectResult(form[f"subject_{s.id}"].data)
            for s in subjects
            if form[f"subject_{s.id}"].data
        }
        done = _save(
            form,
            lambda: service.save_attempt(
                current_user,
                learner,
                item,
                exam_round=db.session.get(ExamRound, form.round_id.data)
                if form.round_id.data
                else None,
                results=results,
                certificate_obtained=form.certificate_obtained.data,
            ),
            _("The exam attempt has been saved."),
            url_for("records.exams", learner_id=learner.id),
        )
        if done:
            return done
    return render_template(
        "records/attempt.html",
        form=form,
        learner=learner,
        item=item,
        no_rounds=not service.list_rounds(),
        action_form=EmptyForm(),
    )


@bp.post("/learners/<int:learner_id>/exams/<int:item_id>/delete")
@staff_only
def delete_attempt(learner_id: int, item_id: int):
    learner = _learner(learner_id)
    item = _item(ExamAttempt, item_id, learner)
    if EmptyForm().validate_on_submit():
        service.delete_attempt(current_user, learner, item)
        db.session.commit()
        flash(_("The exam attempt has been deleted."), "success")
    return redirect(url_for("records.exams", learner_id=learner.id))


@bp.route("/learners/<int:learner_id>/credits/new", methods=["GET", "POST"])
@staff_only
def credit(learner_id: int):
    """Count a subject as done from an earlier round, school credits or a qualification."""
    learner = _learner(learner_id)
    access.require(access.can_manage(current_user, learner) and not access.is_erased(learner))
    form = forms.CreditForm()
    form.subject_id.choices = [SelectChoice("", _("Choose a subject"))] + [
        SelectChoice(str(s.id), s.name) for s in service.list_subjects(active_only=True)
    ]
    if form.validate_on_submit():
        done = _save(
            form,
            lambda: service.save_credit(
                current_user,
                learner,
                subject=db.session.get(ExamSubject, form.subject_id.data)
                if form.subject_id.data
                else None,
                source=CreditSource(form.source.data),
                earned_on=form.earned_on.data,
            ),
            _("The subject credit has been recorded."),
            url_for("records.exams", learner_id=learner.id),
        )
        if done:
            return done
    return _form_page(
        form, _("Subject credit"), learner, url_for("records.exams", learner_id=learner.id)
    )


@bp.post("/learners/<int:learner_id>/credits/<int:item_id>/delete")
@staff_only
def delete_credit(learner_id: int, item_id: int):
    learner = _learner(learner_id)
    item = _item(SubjectCredit, item_id, learner)
    if EmptyForm().validate_on_submit():
        service.delete_credit(current_user, learner, item)
        db.session.commit()
        flash(_("The subject credit has been deleted."), "success")
    return redirect(url_for("records.exams", learner_id=learner.id))


@bp.route("/learners/<int:learner_id>/outcomes/new", methods=["GET", "POST"])
@staff_only
def outcome(learner_id: int):
    """Record an outcome: work, school, referral or the end of support, with its date."""
    learner = _learner(learner_id)
    access.require(access.can_manage(current_user, learner) and not access.is_erased(learner))
    form = forms.OutcomeForm()
    if form.validate_on_submit():
        done = _save(
            form,
            lambda: service.add_outcome(
                current_user,
                learner,
                kind=OutcomeKind(form.kind.data),
                occurred_on=form.occurred_on.data,
                note=form.note.data,
            ),
            _("The outcome has been recorded."),
            _record_url(learner, "timeline"),
        )
        if done:
            return done
    return _form_page(form, _("Outcome"), learner, _record_url(learner))


@bp.post("/learners/<int:learner_id>/outcomes/<int:item_id>/delete")
@staff_only
def delete_outcome(learner_id: int, item_id: int):
    learner = _learner(learner_id)
    item = _item(Outcome, item_id, learner)
    if EmptyForm().validate_on_submit():
        service.delete_outcome(current_user, learner, item)
        db.session.commit()
        flash(_("The outcome has been deleted."), "success")
    return redirect(_record_url(learner, "timeline"))


# Subjects and exam rounds (program settings)


@bp.route("/exam-rounds", methods=["GET", "POST"])
@bp.route("/exam-rounds/<int:round_id>", methods=["GET", "POST"])
@staff_only
def rounds(round_id: int | None = None):
    """List the exam rounds; coordinators add and correct them."""
    item = db.session.get(ExamRound, round_id) if round_id else None
    if round_id and item is None:
        raise access.NotVisible
    managing = access.is_manager(current_user)
    if request.method == "POST":
        access.require(managing)
    form = forms.RoundForm(obj=item if request.method == "GET" else None)
    if request.method == "GET":
        if item is not None:
            form.number.data = str(item.number)
        else:
            year = service.today().year
            form.year.data = year
            form.number.data = "1" if service.today().month < 9 else "2"
            form.exam_on.data = service.default_exam_on(year, int(form.number.data))
    if form.validate_on_submit():
        done = _save(
            form,
            lambda: service.save_round(
                current_user,
                item,
                year=form.year.data,
                number=int(form.number.data),
                exam_on=form.exam_on.data,
            ),
            _("The exam round has been saved."),
            url_for("records.rounds"),
        )
        if done:
            return done
    return render_template(
        "records/rounds.html",
        rounds=service.list_rounds(),
        form=form if managing else None,
        item=item,
    )


@bp.route("/subjects", methods=["GET", "POST"])
@bp.route("/subjects/<int:subject_id>", methods=["GET", "POST"])
@staff_only
def subjects(subject_id: int | None = None):
    """List the exam subjects; coordinators add, rename, order and retire them."""
    item = db.session.get(ExamSubject, subject_id) if subject_id else None
    if subject_id and item is None:
        raise access.NotVisible
    managing = access.is_manager(current_user)
    if request.method == "POST":
        access.require(managing)
    form = forms.SubjectForm(obj=item if request.method == "GET" else None)
    if request.method == "GET":
        if item is not None:
            form.kind.data = item.kind.value
        else:
            form.position.data = len(service.list_subjects()) + 1
    if form.validate_on_submit():
        done = _save(
            form,
            lambda: service.save_subject(
                current_user,
                item,
                name=form.name.data,
                kind=SubjectKind(form.kind.data),
                position=form.position.data,
                active=form.active.data,
            ),
            _("The subject has been saved."),
            url_for("records.subjects"),
        )
        if done:
            return done
    return render_template(
        "records/subjects.html",
        subjects=service.list_subjects(),
        form=form if managing else None,
        item=item,
    )


# The learner's own record


@bp.get("/my/record")
@login_required
def my_record():
    """Show a learner their goals, next session, shared notes, homework and exam progress."""
    if current_user.role is not Role.LEARNER:
        return redirect(url_for("records.index"))
    return render_template("records/my_record.html", **timeline.learners_own_view(current_user))


# Admin: audit log, export, erasure


def _day_arg(name: str, *, end: bool = False) -> datetime | None:
    """Return the start (or, with end, the end) of a `YYYY-MM-DD` day in the program's zone."""
    value = request.args.get(name, "")
    try:
        day = date.fromisoformat(value) if value else None
    except ValueError:
        return None
    if day is None:
        return None
    if end:
        day += timedelta(days=1)
    return datetime.combine(day, time(), tzinfo=program_zone())


@bp.get("/admin/audit")
@admins_only
def audit_log():
    """Review who read or changed learner records, with filters."""
    page = max(1, _int_arg("page") or 1)
    action = request.args.get("action", "")
    filters = audit.AuditFilters(
        learner_id=_int_arg("learner_id"),
        actor_id=_int_arg("actor_id"),
        action=action if action in audit.ACTIONS else None,
        start=_day_arg("from"),
        end=_day_arg("to", end=True),
    )
    per_page = 100
    entries = audit.entries(filters, limit=per_page + 1, offset=(page - 1) * per_page)
    staff = [u for u in list_users() if u.role.is_staff]
    return render_template(
        "records/audit.html",
        entries=entries[:per_page],
        more=len(entries) > per_page,
        page=page,
        filters=filters,
        args=request.args,
        learners=list_users(Role.LEARNER),
        staff=staff,
        actions=audit.ACTIONS,
    )


def _any_learner(learner_id: int) -> User:
    learner = db.session.get(User, learner_id)
    if learner is None or learner.role is not Role.LEARNER:
        raise access.NotVisible
    return learner


@bp.get("/admin/learners/<int:learner_id>/export.json")
@admins_only
def export_json(learner_id: int):
    """Download everything held about one learner as JSON."""
    learner = _any_learner(learner_id)
    data = privacy.export_learner(current_user, learner)
    db.session.commit()
    response = Response(json.dumps(data, ensure_ascii=False, indent=2), mimetype="application/json")
    response.headers["Content-Disposition"] = f"attachment; filename=learner-{learner.id}.json"
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/admin/learners/<int:learner_id>/export")
@admins_only
def export_print(learner_id: int):
    """Show everything held about one learner on one printable page."""
    learner = _any_learner(learner_id)
    data = privacy.export_learner(current_user, learner)
    db.session.commit()
    response = Response(render_template("records/export.html", learner=learner, data=data))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/admin/learners/<int:learner_id>/erase", methods=["GET", "POST"])
@admins_only
def erase(learner_id: int):
    """Erase a learner's personal data after the admin types their name."""
    learner = _any_learner(learner_id)
    if access.is_erased(learner):
        flash(_("This learner was erased already."), "info")
        return redirect(_record_url(learner))
    form = forms.EraseForm()
    if form.validate_on_submit():
        done = _save(
            form,
            lambda: privacy.erase_learner(
                current_user, learner, confirmation=form.confirmation.data
            ),
            _("The learner's personal data has been erased."),
            _record_url(learner),
        )
        if done:
            return done
    return render_template("records/erase.html", learner=learner, form=form)
