"""The partners feature's words, in the user's language."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from tutoring.partners.models import (
    GuardianConsentStatus,
    OrganisationKind,
    OutreachWay,
    ReferralStatus,
)

KINDS = {
    OrganisationKind.SCHOOL: _l("School"),
    OrganisationKind.YOUTH_SUPPORT_STATION: _l("Youth support station"),
    OrganisationKind.WELFARE_OFFICE: _l("Welfare or education office"),
    OrganisationKind.OTHER: _l("Other agency"),
}

STATUSES = {
    ReferralStatus.SUBMITTED: _l("Waiting for the program"),
    ReferralStatus.MORE_INFO: _l("More information asked"),
    ReferralStatus.ACCEPTED: _l("Accepted"),
    ReferralStatus.DECLINED: _l("Declined"),
}

# What each step of the history says happened.
STEPS = {
    ReferralStatus.SUBMITTED: _l("Submitted"),
    ReferralStatus.MORE_INFO: _l("More information asked"),
    ReferralStatus.ACCEPTED: _l("Accepted"),
    ReferralStatus.DECLINED: _l("Declined"),
}

GUARDIAN = {
    GuardianConsentStatus.GIVEN: _l("The guardian agrees to the referral"),
    GuardianConsentStatus.PENDING: _l("Not asked yet or no answer"),
    GuardianConsentStatus.NOT_NEEDED: _l("Not needed (the student is an adult)"),
    GuardianConsentStatus.REFUSED: _l("The guardian does not agree"),
}

WAYS = {
    OutreachWay.VISIT: _l("Visit"),
    OutreachWay.PHONE: _l("Phone"),
    OutreachWay.LINE: _l("LINE"),
    OutreachWay.ONLINE: _l("Online session"),
}

FIELDS = {
    "attendance_rate": _l("Attendance rate"),
    "back_at_school": _l("Back at school"),
    "exam_progress": _l("Exam progress"),
}


def export_words() -> dict[str, str]:
    """Return the CSV export's headers and values in the user's language."""
    return {
        "id": str(_l("Referral")),
        "student": str(_l("Student")),
        "submitted_on": str(_l("Submitted on")),
        "status": str(_l("Status")),
        "attendance_rate": str(_l("Attendance rate")),
        "back_at_school": str(_l("Back at school")),
        "subjects_done": str(_l("Subjects passed or credited")),
        "subjects_remaining": str(_l("Subjects remaining")),
        "yes": str(_l("Yes")),
        "no": str(_l("No")),
        **{status.value: str(label) for status, label in STATUSES.items()},
    }
