"""Rules for partners: organisations, liaisons, referrals in and out, outreach, sharing consent."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, func, select
from sqlalchemy.orm import joinedload

from tutoring.attendance import review as attendance_review
from tutoring.attendance.exports import BOM, _defused
from tutoring.database import utcnow
from tutoring.extensions import db
from tutoring.i18n import program_zone
from tutoring.notes import service as notes
from tutoring.notes.models import CaseReview
from tutoring.partners import access
from tutoring.partners.models import (
    SHARED_FIELDS,
    GuardianConsentStatus,
    Liaison,
    Organisation,
    OrganisationKind,
    OutreachContact,
    OutreachWay,
    Referral,
    ReferralEvent,
    ReferralOut,
    ReferralStatus,
    SharingConsent,
)
from tutoring.people import service as people
from tutoring.people.models import LearnerProfile, LearnerStatus, Role, SchoolSituation, User
from tutoring.records import audit
from tutoring.records import service as records
from tutoring.records.models import Outcome, OutcomeKind
from tutoring.validation import ValidationError

OPEN_STATUSES = (ReferralStatus.SUBMITTED, ReferralStatus.MORE_INFO)


def today() -> date:
    return records.today()


def _text(value: str | None, field_name: str, max_length: int, *, required: bool = False) -> str:
    value = (value or "").strip()
    if required and not value:
        raise ValidationError(field_name, _l("This field is required."))
    if len(value) > max_length:
        raise ValidationError(field_name, _l("At most %(n)d characters.", n=max_length))
    return value


def _past_date(value: date | None, field_name: str) -> date:
    if value is None:
        raise ValidationError(field_name, _l("This field is required."))
    if value.year < 2000 or value > today():
        raise ValidationError(field_name, _l("Enter a day between 2000 and today."))
    return value


# Organisations and liaison accounts


def list_organisations() -> list[Organisation]:
    return list(db.session.scalars(select(Organisation).order_by(Organisation.name)))


def save_organisation(
    actor: User,
    organisation: Organisation | None,
    *,
    name: str,
    kind: OrganisationKind,
    active: bool = True,
) -> Organisation:
    """Create or change a partner organisation (coordinators and admins)."""
    access.require_manager(actor)
    name = _text(name, "name", 100, required=True)
    clash = select(Organisation.id).where(func.lower(Organisation.name) == name.lower())
    if organisation is not None:
        clash = clash.where(Organisation.id != organisation.id)
    if db.session.scalar(clash) is not None:
        raise ValidationError("name", _l("Already used by another organisation."), code="conflict")
    organisation = organisation or Organisation()
    organisation.name = name
    organisation.kind = kind
    organisation.active = active
    db.session.add(organisation)
    db.session.flush()
    return organisation


def liaisons_of(organisation: Organisation) -> list[User]:
    return list(
        db.session.scalars(
            select(User)
            .join(Liaison, Liaison.user_id == User.id)
            .where(Liaison.organisation_id == organisation.id)
            .order_by(User.name)
        )
    )


def create_liaison(
    actor: User,
    organisation: Organisation,
    *,
    name: str,
    email: str,
    password: str | None = None,
) -> User:
    """Create a liaison account belonging to the organisation (coordinators and admins)."""
    access.require_manager(actor)
    if not email or not email.strip():
        raise ValidationError("email", _l("This field is required."))
    user = people.create_user(
        actor, name=name, role=Role.LIAISON, email=email, password=password or None
    )
    db.session.add(Liaison(user_id=user.id, organisation_id=organisation.id))
    db.session.flush()
    return user


# Referrals in


@dataclass
class ReferralInput:
    student_name: str = ""
    school_year: str = ""
    situation: str = ""
    tried: str = ""
    contact_route: str = ""
    guardian_consent: GuardianConsentStatus | None = None


def _event(referral: Referral, actor: User, status: ReferralStatus, message: str = "") -> None:
    db.session.add(
        ReferralEvent(referral_id=referral.id, actor_id=actor.id, status=status, message=message)
    )


def submit_referral(actor: User, data: ReferralInput) -> Referral:
    """Hand a student at risk to the program (a liaison, for their own organisation)."""
    organisation = access.require_liaison(actor)
    if data.guardian_consent is None:
        raise ValidationError("guardian_consent", _l("This field is required."))
    referral = Referral(
        organisation_id=organisation.id,
        submitted_by_id=actor.id,
        student_name=_text(data.student_name, "student_name", 100, required=True),
        school_year=_text(data.school_year, "school_year", 30),
        situation=_text(data.situation, "situation", 2000, required=True),
        tried=_text(data.tried, "tried", 2000),
        contact_route=_text(data.contact_route, "contact_route", 500, required=True),
        guardian_consent=data.guardian_consent,
        status=ReferralStatus.SUBMITTED,
    )
    db.session.add(referral)
    db.session.flush()
    _event(referral, actor, ReferralStatus.SUBMITTED)
    db.session.flush()
    return referral


def add_information(actor: User, referral: Referral, message: str) -> None:
    """Answer the coordinator's question; the referral is waiting for a decision again."""
    organisation = access.organisation_of(actor)
    if organisation is None or referral.organisation_id != organisation.id:
        raise access.AccessDenied
    if referral.status is not ReferralStatus.MORE_INFO:
        raise ValidationError("status", _l("Nobody asked for more about this referral."))
    message = _text(message, "message", 2000, required=True)
    referral.status = ReferralStatus.SUBMITTED
    _event(referral, actor, ReferralStatus.SUBMITTED, message)
    db.session.flush()


def _require_open(referral: Referral) -> None:
    if referral.status not in OPEN_STATUSES:
        raise ValidationError("status", _l("This referral has been decided already."), "conflict")


def ask_for_more(actor: User, referral: Referral, question: str) -> None:
    """Ask the liaison for more about the student (coordinators and admins)."""
    access.require_manager(actor)
    _require_open(referral)
    question = _text(question, "message", 2000, required=True)
    referral.status = ReferralStatus.MORE_INFO
    _event(referral, actor, ReferralStatus.MORE_INFO, question)
    db.session.flush()


def decline(actor: User, referral: Referral, reason: str) -> None:
    """Decline the referral with a reason the liaison reads (coordinators and admins)."""
    access.require_manager(actor)
    _require_open(referral)
    reason = _text(reason, "message", 2000, required=True)
    referral.status = ReferralStatus.DECLINED
    _event(referral, actor, ReferralStatus.DECLINED, reason)
    db.session.flush()


def accept(actor: User, referral: Referral, message: str = "") -> User:
    """Accept the referral: make the learner's account and record, "enrolled, at risk"."""
    access.require_manager(actor)
    _require_open(referral)
    message = _text(message, "message", 2000)
    learner = people.create_user(actor, name=referral.student_name, role=Role.LEARNER)
    records.save_profile(
        actor,
        learner,
        name=referral.student_name,
        school_situation=SchoolSituation.ENROLLED_AT_RISK,
        enrolled_on=today(),
        coordinator=actor,
    )
    records.profile_for_update(learner).status = LearnerStatus.ACTIVE
    referral.learner_id = learner.id
    referral.status = ReferralStatus.ACCEPTED
    _event(referral, actor, ReferralStatus.ACCEPTED, message)
    audit.record(
        actor, "create", "referral_acceptance", learner_id=learner.id, target_id=referral.id
    )
    db.session.flush()
    return learner


def decide(actor: User, referral: Referral, action: str, message: str) -> None:
    """Apply a coordinator's decision named by action: accept, ask or decline."""
    if action == "accept":
        accept(actor, referral, message)
    elif action == "ask":
        ask_for_more(actor, referral, message)
    elif action == "decline":
        decline(actor, referral, message)
    else:
        raise ValidationError(
            "action", _l("Must be one of: %(allowed)s.", allowed="accept, ask, decline")
        )


def history(referral: Referral) -> list[ReferralEvent]:
    """Return the referral's steps, oldest first."""
    return list(
        db.session.scalars(
            select(ReferralEvent)
            .options(joinedload(ReferralEvent.actor))
            .where(ReferralEvent.referral_id == referral.id)
            .order_by(ReferralEvent.at, ReferralEvent.id)
        )
    )


def list_referrals(actor: User, status: ReferralStatus | None = None) -> list[Referral]:
    """Return the referrals the actor may see, newest first."""
    query = access.visible_referrals(actor).options(
        joinedload(Referral.organisation), joinedload(Referral.learner)
    )
    if status is not None:
        query = query.where(Referral.status == status)
    return list(
        db.session.scalars(query.order_by(Referral.submitted_at.desc(), Referral.id.desc()))
    )


def log_staff_read(actor: User, referral: Referral) -> None:
    """Write a staff read of the referral's text to the audit log (the view commits)."""
    if actor.role.is_staff:
        audit.record(
            actor, "read", "referral", learner_id=referral.learner_id, target_id=referral.id
        )


def referral_of(learner: User) -> Referral | None:
    """Return the accepted referral that brought the learner, if any."""
    return db.session.scalar(
        select(Referral).where(
            Referral.learner_id == learner.id, Referral.status == ReferralStatus.ACCEPTED
        )
    )


# Outreach and the council's support plan


def _accepted_learner(referral: Referral) -> User:
    if referral.status is not ReferralStatus.ACCEPTED or referral.learner is None:
        raise ValidationError("status", _l("Accept the referral first."), "conflict")
    return referral.learner


def record_outreach(
    actor: User,
    referral: Referral,
    *,
    contacted_on: date | None,
    way: OutreachWay,
    who: str,
    outcome: str,
) -> OutreachContact:
    """Record a contact with a referred student (coordinators and admins)."""
    access.require_manager(actor)
    learner = _accepted_learner(referral)
    contact = OutreachContact(
        learner_id=learner.id,
        contacted_on=_past_date(contacted_on, "contacted_on"),
        way=way,
        who=_text(who, "who", 100, required=True),
        outcome=_text(outcome, "outcome", 2000),
        created_by_id=actor.id,
    )
    db.session.add(contact)
    db.session.flush()
    audit.record(actor, "create", "outreach", learner_id=learner.id, target_id=contact.id)
    return contact


def outreach_of(learner: User) -> list[OutreachContact]:
    """Return the outreach contacts with the learner, newest first."""
    return list(
        db.session.scalars(
            select(OutreachContact)
            .where(OutreachContact.learner_id == learner.id)
            .order_by(OutreachContact.contacted_on.desc(), OutreachContact.id.desc())
        )
    )


def save_plan(
    actor: User,
    referral: Referral,
    *,
    held_on: date | None,
    participants: str,
    situation: str,
    decisions: str,
    next_review_on: date | None = None,
) -> CaseReview:
    """Record the council meeting's agreed plan as a case review with external participants."""
    access.require_manager(actor)
    learner = _accepted_learner(referral)
    if not (participants or "").strip():
        raise ValidationError("participants", _l("This field is required."))
    review = notes.save_case_review(
        actor,
        learner,
        None,
        held_on=held_on,
        participants=participants,
        situation=situation,
        decisions=decisions,
        next_review_on=next_review_on,
    )
    referral.plan_review_id = review.id
    db.session.flush()
    return review


def plan_of(referral: Referral) -> CaseReview | None:
    if referral.plan_review_id is None:
        return None
    return db.session.get(CaseReview, referral.plan_review_id)


# Consent to share with the referring organisation


def current_sharing(learner_id: int, organisation_id: int) -> SharingConsent | None:
    """Return the consent in force for the organisation, or None (none, withdrawn, incomplete)."""
    consent = db.session.scalar(
        select(SharingConsent)
        .where(
            SharingConsent.learner_id == learner_id,
            SharingConsent.organisation_id == organisation_id,
            SharingConsent.withdrawn_at.is_(None),
        )
        .order_by(SharingConsent.recorded_at.desc(), SharingConsent.id.desc())
    )
    if consent is None:
        return None
    learner = db.session.get(User, learner_id)
    minor = learner is not None and records.is_minor(records.profile_of(learner)) is not False
    if minor and consent.guardian_agreed_on is None:
        return None  # a minor (or a learner of unknown age) shares nothing without the guardian
    return consent


def sharing_history(referral: Referral) -> list[SharingConsent]:
    if referral.learner_id is None:
        return []
    return list(
        db.session.scalars(
            select(SharingConsent)
            .where(
                SharingConsent.learner_id == referral.learner_id,
                SharingConsent.organisation_id == referral.organisation_id,
            )
            .order_by(SharingConsent.recorded_at.desc(), SharingConsent.id.desc())
        )
    )


def record_sharing(
    actor: User,
    referral: Referral,
    *,
    fields: list[str],
    learner_agreed_on: date | None,
    guardian_name: str | None = None,
    guardian_agreed_on: date | None = None,
) -> SharingConsent:
    """Record what the learner (and a minor's guardian) agreed to share; it replaces the last."""
    access.require_manager(actor)
    learner = _accepted_learner(referral)
    unknown = [f for f in fields if f not in SHARED_FIELDS]
    if unknown:
        raise ValidationError("fields", _l("Unknown field."))
    if not fields:
        raise ValidationError("fields", _l("Choose at least one thing to share."))
    learner_agreed_on = _past_date(learner_agreed_on, "learner_agreed_on")
    guardian_name = _text(guardian_name, "guardian_name", 100) or None
    if guardian_agreed_on is not None:
        guardian_agreed_on = _past_date(guardian_agreed_on, "guardian_agreed_on")
    if (guardian_name is None) != (guardian_agreed_on is None):
        raise ValidationError(
            "guardian_name", _l("Give both the guardian's name and the day they agreed.")
        )
    if records.is_minor(records.profile_of(learner)) is not False and guardian_agreed_on is None:
        raise ValidationError(
            "guardian_name",
            _l("The learner is a minor or of unknown age: the guardian must agree too."),
        )
    now = utcnow()
    for old in sharing_history(referral):
        if old.withdrawn_at is None:
            old.withdrawn_at = now
            old.withdrawn_by_id = actor.id
    consent = SharingConsent(
        learner_id=learner.id,
        organisation_id=referral.organisation_id,
        learner_agreed_on=learner_agreed_on,
        guardian_name=guardian_name,
        guardian_agreed_on=guardian_agreed_on,
        recorded_by_id=actor.id,
        **{name: name in fields for name in SHARED_FIELDS},
    )
    db.session.add(consent)
    db.session.flush()
    audit.record(
        actor,
        "create",
        "sharing_consent",
        learner_id=learner.id,
        target_id=consent.id,
        fields=list(fields),
    )
    return consent


def withdraw_sharing(actor: User, consent: SharingConsent) -> None:
    """Withdraw a consent: the liaison's view of the learner closes with the next request."""
    access.require_manager(actor)
    if consent.withdrawn_at is None:
        consent.withdrawn_at = utcnow()
        consent.withdrawn_by_id = actor.id
        audit.record(
            actor,
            "update",
            "sharing_consent",
            learner_id=consent.learner_id,
            target_id=consent.id,
            fields=["withdrawn_at"],
        )
    db.session.flush()


# What a liaison sees of a student


@dataclass
class SharedView:
    """The consented fields of a referred student; a field not consented is absent."""

    consented: list[str] = field(default_factory=list)
    attendance_rate: float | None = None
    back_at_school: bool | None = None
    exam_done: int | None = None
    exam_remaining: int | None = None
    certificate_obtained: bool | None = None

    def as_json(self) -> dict[str, Any]:
        result: dict[str, Any] = {"consented": self.consented}
        if "attendance_rate" in self.consented:
            result["attendance_rate"] = self.attendance_rate
        if "back_at_school" in self.consented:
            result["back_at_school"] = self.back_at_school
        if "exam_progress" in self.consented:
            result["exam_progress"] = {
                "subjects_done": self.exam_done,
                "subjects_remaining": self.exam_remaining,
                "certificate_obtained": self.certificate_obtained,
            }
        return result


def back_at_school(learner: User) -> bool:
    """Tell whether the learner's latest outcome is a return to school."""
    latest = db.session.scalar(
        select(Outcome)
        .where(Outcome.learner_id == learner.id)
        .order_by(Outcome.occurred_on.desc(), Outcome.id.desc())
    )
    return latest is not None and latest.kind is OutcomeKind.RETURN_TO_SCHOOL


def shared_view(actor: User, referral: Referral) -> SharedView | None:
    """Return what the liaison may see of the student now, or None without consent in force.

    Each liaison read of a student's data is written to the audit log.
    """
    if referral.status is not ReferralStatus.ACCEPTED or referral.learner_id is None:
        return None
    consent = current_sharing(referral.learner_id, referral.organisation_id)
    if consent is None:
        return None
    learner = db.session.get(User, referral.learner_id)
    if (
        learner is None
        or records.profile_of(learner) is None
        or (records.profile_of(learner).erased_at is not None)
    ):
        return None
    view = SharedView(consented=consent.fields)
    if consent.attendance_rate:
        _, totals = attendance_review.own_history(learner, page=1, per_page=1)
        view.attendance_rate = round(totals.rate, 2) if totals.rate is not None else None
    if consent.back_at_school:
        view.back_at_school = back_at_school(learner)
    if consent.exam_progress:
        progress = records.exam_progress(learner)
        view.exam_done = progress.done
        view.exam_remaining = progress.remaining
        view.certificate_obtained = progress.certificate_obtained
    if access.is_liaison(actor):
        audit.record(
            actor,
            "read",
            "partner_view",
            learner_id=learner.id,
            target_id=referral.id,
            fields=view.consented,
        )
    return view


def referral_json(actor: User, referral: Referral) -> dict[str, Any]:
    """Return a referral as the API shows it to the actor (a liaison gets no staff data)."""
    result: dict[str, Any] = {
        "id": referral.id,
        "organisation_id": referral.organisation_id,
        "student_name": referral.student_name,
        "school_year": referral.school_year,
        "situation": referral.situation,
        "tried": referral.tried,
        "contact_route": referral.contact_route,
        "guardian_consent": referral.guardian_consent.value,
        "status": referral.status.value,
        "submitted_at": referral.submitted_at.isoformat(),
        "history": [
            {
                "status": e.status.value,
                "message": e.message,
                "at": e.at.isoformat(),
                "by": e.actor.name if e.actor else None,
            }
            for e in history(referral)
        ],
    }
    if access.is_manager(actor):
        result["learner_id"] = referral.learner_id
    view = shared_view(actor, referral)
    result["shared"] = view.as_json() if view is not None else None
    return result


# Referrals out


def record_referral_out(
    actor: User, learner: User, *, agency: str, referred_on: date | None, reason: str
) -> ReferralOut:
    """Record that the program referred the learner on to another agency."""
    access.require_manager(actor)
    if learner.role is not Role.LEARNER:
        raise access.NotVisible
    item = ReferralOut(
        learner_id=learner.id,
        agency=_text(agency, "agency", 100, required=True),
        referred_on=_past_date(referred_on, "referred_on"),
        reason=_text(reason, "reason", 2000, required=True),
        created_by_id=actor.id,
    )
    db.session.add(item)
    db.session.flush()
    audit.record(actor, "create", "referral_out", learner_id=learner.id, target_id=item.id)
    return item


def referrals_out(learner: User) -> list[ReferralOut]:
    return list(
        db.session.scalars(
            select(ReferralOut)
            .where(ReferralOut.learner_id == learner.id)
            .order_by(ReferralOut.referred_on.desc(), ReferralOut.id.desc())
        )
    )


def learners_referred_out_between(start: date, end: date) -> set[int]:
    """Return the learners referred to another agency on days from start to end, both included.

    For the program report (`tutoring.reports.service.referred_out_learners`), which counts
    each learner once.
    """
    return set(
        db.session.scalars(
            select(ReferralOut.learner_id)
            .where(ReferralOut.referred_on >= start, ReferralOut.referred_on <= end)
            .distinct()
        )
    )


# The council meeting


@dataclass
class CouncilRow:
    referral: Referral
    changes: list[ReferralEvent]
    contacts_since: int
    last_contact: OutreachContact | None
    plan: CaseReview | None
    referred_out: list[ReferralOut]
    back_at_school: bool | None
    status: LearnerStatus | None


def council(actor: User, since: date, kinds: tuple[OrganisationKind, ...]) -> list[CouncilRow]:
    """Return every referral of organisations of these kinds, with what changed since the day.

    A fixed number of queries whatever the number of referrals: the council sees them all.
    """
    access.require_manager(actor)
    since_at = datetime.combine(since, time.min, tzinfo=program_zone()).astimezone(UTC)
    referrals = list(
        db.session.scalars(
            select(Referral)
            .join(Organisation, Organisation.id == Referral.organisation_id)
            .options(joinedload(Referral.organisation), joinedload(Referral.learner))
            .where(Organisation.kind.in_(kinds))
            .order_by(Organisation.name, Referral.submitted_at, Referral.id)
        )
    )
    referral_ids = [r.id for r in referrals]
    learner_ids = [r.learner_id for r in referrals if r.learner_id is not None]
    changes: dict[int, list[ReferralEvent]] = {}
    for item in db.session.scalars(
        select(ReferralEvent)
        .where(ReferralEvent.referral_id.in_(referral_ids), ReferralEvent.at >= since_at)
        .order_by(ReferralEvent.at, ReferralEvent.id)
    ):
        changes.setdefault(item.referral_id, []).append(item)
    contacts: dict[int, list[OutreachContact]] = {}
    for contact in db.session.scalars(
        select(OutreachContact)
        .where(OutreachContact.learner_id.in_(learner_ids))
        .order_by(OutreachContact.contacted_on.desc(), OutreachContact.id.desc())
    ):
        contacts.setdefault(contact.learner_id, []).append(contact)
    outs: dict[int, list[ReferralOut]] = {}
    for out in db.session.scalars(
        select(ReferralOut)
        .where(ReferralOut.learner_id.in_(learner_ids))
        .order_by(ReferralOut.referred_on.desc(), ReferralOut.id.desc())
    ):
        outs.setdefault(out.learner_id, []).append(out)
    latest_outcome: dict[int, Outcome] = {}
    for outcome in db.session.scalars(
        select(Outcome)
        .where(Outcome.learner_id.in_(learner_ids))
        .order_by(Outcome.occurred_on.desc(), Outcome.id.desc())
    ):
        latest_outcome.setdefault(outcome.learner_id, outcome)
    plan_ids = [r.plan_review_id for r in referrals if r.plan_review_id is not None]
    plans = {
        review.id: review
        for review in db.session.scalars(select(CaseReview).where(CaseReview.id.in_(plan_ids)))
    }
    statuses = dict(
        db.session.execute(
            select(LearnerProfile.user_id, LearnerProfile.status).where(
                LearnerProfile.user_id.in_(learner_ids)
            )
        ).all()
    )
    rows = []
    for referral in referrals:
        learner_id = referral.learner_id
        own = contacts.get(learner_id, []) if learner_id is not None else []
        outcome = latest_outcome.get(learner_id) if learner_id is not None else None
        rows.append(
            CouncilRow(
                referral=referral,
                changes=changes.get(referral.id, []),
                contacts_since=sum(1 for c in own if c.contacted_on >= since),
                last_contact=own[0] if own else None,
                plan=plans.get(referral.plan_review_id) if referral.plan_review_id else None,
                referred_out=outs.get(learner_id, []) if learner_id is not None else [],
                back_at_school=None
                if learner_id is None
                else outcome is not None and outcome.kind is OutcomeKind.RETURN_TO_SCHOOL,
                status=statuses.get(learner_id),
            )
        )
    if rows:
        audit.record(actor, "read", "council_view", learner_id=None)
    return rows


def default_council_since() -> date:
    return today() - timedelta(days=90)


# The liaison's export


def export_lines(actor: User, words: dict[str, str]) -> Iterator[str]:
    """Yield the liaison's view as CSV (BOM first, for Excel): consented fields only."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")

    def line(values: list) -> str:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow([_defused(v) for v in values])
        return buffer.getvalue()

    yield BOM + line(
        [
            words["id"],
            words["student"],
            words["submitted_on"],
            words["status"],
            words["attendance_rate"],
            words["back_at_school"],
            words["subjects_done"],
            words["subjects_remaining"],
        ]
    )
    zone = program_zone()
    for referral in list_referrals(actor):
        view = shared_view(actor, referral)
        shared = view.consented if view else []
        yield line(
            [
                referral.id,
                referral.student_name,
                referral.submitted_at.astimezone(zone).date().isoformat(),
                words[referral.status.value],
                view.attendance_rate if "attendance_rate" in shared else "",
                (words["yes"] if view.back_at_school else words["no"])
                if "back_at_school" in shared
                else "",
                view.exam_done if "exam_progress" in shared else "",
                view.exam_remaining if "exam_progress" in shared else "",
            ]
        )


# A learner's export and erasure (called by tutoring/records/privacy.py)


def learner_data(learner: User) -> dict[str, Any]:
    """Return what partners hold about the learner, for the admin's export."""
    referrals = db.session.scalars(select(Referral).where(Referral.learner_id == learner.id))
    return {
        "referrals": [
            {
                "id": r.id,
                "organisation": r.organisation.name,
                "student_name": r.student_name,
                "school_year": r.school_year,
                "situation": r.situation,
                "tried": r.tried,
                "contact_route": r.contact_route,
                "guardian_consent": r.guardian_consent.value,
                "status": r.status.value,
                "submitted_at": r.submitted_at.isoformat(),
                "history": [
                    {"status": e.status.value, "message": e.message, "at": e.at.isoformat()}
                    for e in history(r)
                ],
                "sharing": [
                    {
                        "fields": c.fields,
                        "learner_agreed_on": c.learner_agreed_on.isoformat(),
                        "guardian_name": c.guardian_name,
                        "guardian_agreed_on": c.guardian_agreed_on.isoformat()
                        if c.guardian_agreed_on
                        else None,
                        "withdrawn_at": c.withdrawn_at.isoformat() if c.withdrawn_at else None,
                    }
                    for c in sharing_history(r)
                ],
            }
            for r in referrals
        ],
        "outreach": [
            {
                "contacted_on": c.contacted_on.isoformat(),
                "way": c.way.value,
                "who": c.who,
                "outcome": c.outcome,
            }
            for c in outreach_of(learner)
        ],
        "referrals_out": [
            {"agency": o.agency, "referred_on": o.referred_on.isoformat(), "reason": o.reason}
            for o in referrals_out(learner)
        ],
    }


def erase_learner_data(learner: User, pseudonym: str) -> None:
    """Remove what tells the learner's story; keep dates and kinds the report counts."""
    referral_ids = select(Referral.id).where(Referral.learner_id == learner.id)
    for referral in db.session.scalars(select(Referral).where(Referral.learner_id == learner.id)):
        referral.student_name = pseudonym
        referral.school_year = ""
        referral.situation = ""
        referral.tried = ""
        referral.contact_route = ""
    for event in db.session.scalars(
        select(ReferralEvent).where(ReferralEvent.referral_id.in_(referral_ids))
    ):
        event.message = ""
    for contact in outreach_of(learner):
        contact.who = ""
        contact.outcome = ""
    for item in referrals_out(learner):
        item.reason = ""
    db.session.execute(delete(SharingConsent).where(SharingConsent.learner_id == learner.id))
    db.session.flush()
