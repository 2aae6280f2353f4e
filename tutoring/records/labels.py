"""Words for the values of learner records, shown instead of codes (never by colour alone)."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from tutoring.notes.models import Visibility
from tutoring.people.forms import ROLE_LABELS
from tutoring.people.models import AgeBand, ContactMethod, LearnerStatus, SchoolSituation
from tutoring.records.models import (
    ConsentMethod,
    CreditSource,
    ExamRound,
    GoalStatus,
    OutcomeKind,
    SubjectKind,
    SubjectResult,
)

AGE_BANDS = {
    AgeBand.UNDER_18: _l("Under 18"),
    AgeBand.FROM_18_TO_19: _l("18 to 19"),
    AgeBand.TWENTIES: _l("20 to 29"),
    AgeBand.THIRTIES_AND_OVER: _l("30 or over"),
}
SCHOOL_SITUATIONS = {
    SchoolSituation.DROPPED_OUT: _l("Left high school"),
    SchoolSituation.ON_LEAVE: _l("On leave from high school"),
    SchoolSituation.NOT_ATTENDING: _l("Enrolled but not attending"),
    SchoolSituation.NEVER_ENROLLED: _l("Never enrolled in high school"),
    SchoolSituation.ENROLLED_AT_RISK: _l("Enrolled, at risk of leaving"),
}
STATUSES = {
    LearnerStatus.ACTIVE: _l("Active"),
    LearnerStatus.PAUSED: _l("Paused"),
    LearnerStatus.COMPLETED: _l("Completed"),
    LearnerStatus.REFERRED: _l("Referred"),
    LearnerStatus.ENDED: _l("Ended"),
}
CONTACTS = {
    ContactMethod.LINE: _l("LINE"),
    ContactMethod.EMAIL: _l("E-mail"),
    ContactMethod.PHONE: _l("Phone"),
}
CONSENT_METHODS = {ConsentMethod.PAPER: _l("On paper"), ConsentMethod.ONLINE: _l("Online")}
CREDIT_SOURCES = {
    CreditSource.EARLIER_EXAM: _l("Passed in an earlier round"),
    CreditSource.SCHOOL: _l("High-school credits"),
    CreditSource.QUALIFICATION: _l("Qualification (e.g. Eiken)"),
}
GOAL_STATUSES = {
    GoalStatus.OPEN: _l("Working on it"),
    GoalStatus.ACHIEVED: _l("Achieved"),
    GoalStatus.DROPPED: _l("Set aside"),
}
RESULTS = {
    SubjectResult.PENDING: _l("Result pending"),
    SubjectResult.PASSED: _l("Passed"),
    SubjectResult.FAILED: _l("Not passed"),
}
PROGRESS_STATES = {
    "passed": _l("Passed"),
    "credited": _l("Credited"),
    "pending": _l("Result pending"),
    "failed": _l("Not passed yet"),
    "planned": _l("In the plan"),
    "none": _l("Not started"),
}
OUTCOMES = {
    OutcomeKind.EMPLOYMENT_REGULAR: _l("Employment (regular)"),
    OutcomeKind.EMPLOYMENT_NON_REGULAR: _l("Employment (non-regular)"),
    OutcomeKind.EMPLOYMENT_WELFARE: _l("Welfare employment"),
    OutcomeKind.FURTHER_EDUCATION: _l("Further education"),
    OutcomeKind.RETURN_TO_SCHOOL: _l("Return to school"),
    OutcomeKind.JOB_SEEKING: _l("Job seeking"),
    OutcomeKind.REFERRAL: _l("Referred to another agency"),
    OutcomeKind.SUPPORT_ENDED: _l("Support ended"),
}
SUBJECT_KINDS = {
    SubjectKind.REQUIRED: _l("Required"),
    SubjectKind.SCIENCE_CORE: _l("Science: counts with one basic science"),
    SubjectKind.SCIENCE_BASIC: _l("Science: basic (three, or one with the core)"),
    SubjectKind.OTHER: _l("Not counted toward the certificate"),
}
VISIBILITIES = {
    Visibility.LEARNER: _l("Shared with the learner"),
    Visibility.STAFF: _l("Staff only"),
}
AUDIT_ACTIONS = {
    "read": _l("Read"),
    "create": _l("Created"),
    "update": _l("Changed"),
    "delete": _l("Deleted"),
    "export": _l("Exported"),
    "erase": _l("Erased"),
}
AUDIT_TARGETS = {
    "record": _l("Record"),
    "notes": _l("Study notes"),
    "note": _l("Study note"),
    "case_review": _l("Case review"),
    "profile": _l("Profile"),
    "status": _l("Support status"),
    "consent": _l("Guardian consent"),
    "consultation": _l("Learning consultation"),
    "goal": _l("Goal"),
    "plan": _l("Learning plan"),
    "exam_attempt": _l("Exam attempt"),
    "credit": _l("Subject credit"),
    "outcome": _l("Outcome"),
    "room_panel": _l("Note panel in the room"),
    # tutoring/partners
    "referral": _l("Referral from a partner"),
    "referral_acceptance": _l("Referral accepted"),
    "partner_view": _l("Shared with the referring partner"),
    "outreach": _l("Outreach"),
    "referral_out": _l("Referral to another agency"),
    "sharing_consent": _l("Consent to share with a partner"),
    "council_view": _l("Council meeting view"),
}


def round_label(exam_round: ExamRound | None) -> str:
    """Return "2026年 第1回" / "2026, round 1"."""
    if exam_round is None:
        return ""
    return _("%(year)d, round %(number)d", year=exam_round.year, number=exam_round.number)


def for_templates() -> dict:
    """Return the label tables under one name for templates."""
    return {
        "age_bands": AGE_BANDS,
        "school_situations": SCHOOL_SITUATIONS,
        "statuses": STATUSES,
        "contacts": CONTACTS,
        "consent_methods": CONSENT_METHODS,
        "credit_sources": CREDIT_SOURCES,
        "goal_statuses": GOAL_STATUSES,
        "results": RESULTS,
        "progress": PROGRESS_STATES,
        "outcomes": OUTCOMES,
        "subject_kinds": SUBJECT_KINDS,
        "visibilities": VISIBILITIES,
        "audit_actions": AUDIT_ACTIONS,
        "audit_targets": AUDIT_TARGETS,
        "roles": ROLE_LABELS,
        "round": round_label,
    }
