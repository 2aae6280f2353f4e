"""The permission matrix of docs/permissions.md and a world its routes can be requested in.

Shared by tests/test_permissions.py and the sweeps under tests/security/, so that a route
added later is covered by both without anyone remembering.
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

from tests.conftest import ROOT
from tutoring.database import utcnow
from tutoring.extensions import db

DOC = ROOT / "docs" / "permissions.md"
ROLES = [
    "anonymous",
    "learner",
    "other learner",
    "tutor",
    "other tutor",
    "coordinator",
    "admin",
    "liaison",
    "other liaison",
]
# Those refused first: a request that is allowed may change things the next one relies on.
ORDER = [
    "anonymous",
    "other learner",
    "other tutor",
    "other liaison",
    "learner",
    "tutor",
    "liaison",
    "coordinator",
    "admin",
]
NOT_IN_MATRIX = {"static"}


def read_matrix() -> tuple[dict[str, dict[str, str]], dict[str, dict[str, str]]]:
    """Return the HTTP rows {"GET /path": {role: cell}} and the socket rows of the document."""
    http, sockets = {}, {}
    in_matrix = False
    for line in DOC.read_text().splitlines():
        if not line.startswith("|"):
            in_matrix = False
            continue
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if cells[0] in ("request", "event"):
            in_matrix = True
        if not in_matrix or cells[0] in ("request", "event") or cells[0].startswith("---"):
            continue
        # Every row names every person, the liaisons too (see the page's rule for new rows).
        assert len(cells) == 1 + len(ROLES), f"{cells[0]}: give one cell per person"
        row = dict(zip(ROLES, cells[1:], strict=True))
        target = http if re.match(r"^(GET|POST|PUT|PATCH|DELETE) /", cells[0]) else sockets
        target[cells[0]] = row
    return http, sockets


HTTP_ROWS, SOCKET_ROWS = read_matrix()


def route_key(method: str, rule: str) -> str:
    return f"{method} " + re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"<\1>", rule)


def build_world(app, program, book, make_user, make_token) -> dict:
    """Create one open session and everything the routes' parameters name."""
    from tutoring.auth import service as auth
    from tutoring.auth.models import ApiToken
    from tutoring.people.models import User
    from tutoring.scheduling import service as scheduling
    from tutoring.whiteboard import service as whiteboard

    [session_id] = book(utcnow().replace(microsecond=0) - timedelta(minutes=5))
    admin = make_user("admin")
    make_token(program.learner)
    invitee = make_user("learner", password=None, with_email=False)
    liaisons = {"liaison": make_user("liaison"), "other liaison": make_user("liaison")}
    with app.app_context():
        learner = db.session.get(User, program.learner.id)
        _, invitation = auth.create_invitation(
            db.session.get(User, program.coordinator.id), db.session.get(User, invitee.id)
        )
        feed = scheduling.calendar_feed(learner).token
        token_id = db.session.query(ApiToken).filter_by(user_id=learner.id).one().id
        records = _learner_records(learner, db.session.get(User, program.tutor.id))
        partners = _partners(learner, db.session.get(User, program.coordinator.id), liaisons)
        picture = "A" * 22 + ".png"
        folder = Path(whiteboard.storage_root()) / str(session_id)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / picture).write_bytes(b"\x89PNG\r\n\x1a\n")
        db.session.commit()
    people = {
        **liaisons,
        "learner": program.learner,
        "other learner": program.other_learner,
        "tutor": program.tutor,
        "other tutor": program.other_tutor,
        "coordinator": program.coordinator,
        "admin": admin,
    }
    values = {
        "session_id": session_id,
        "user_id": program.learner.id,
        "learner_id": program.learner.id,
        "venue_id": program.venue_id,
        "token_id": token_id,
        "provider": "nowhere",
        "name": picture,
        **records,
        **partners,
    }
    return {"people": people, "values": values, "invitation": invitation, "feed": feed}


def _partners(learner, coordinator, liaisons) -> dict:
    """Make two partner schools with a liaison each, and the first one's accepted referral."""
    from datetime import date

    from tutoring.partners import service as partners
    from tutoring.partners.models import (
        GuardianConsentStatus,
        Liaison,
        OrganisationKind,
        Referral,
        ReferralEvent,
        ReferralStatus,
        SharingConsent,
    )

    school = partners.save_organisation(
        coordinator, None, name="都立みどり高校", kind=OrganisationKind.SCHOOL
    )
    other = partners.save_organisation(
        coordinator, None, name="ひかり特別支援学校", kind=OrganisationKind.SCHOOL
    )
    liaison, other_liaison = liaisons["liaison"], liaisons["other liaison"]
    db.session.add_all(
        [
            Liaison(user_id=liaison.id, organisation_id=school.id),
            Liaison(user_id=other_liaison.id, organisation_id=other.id),
        ]
    )
    referral = Referral(
        organisation_id=school.id,
        submitted_by_id=liaison.id,
        student_name=learner.name,
        situation="欠席が続いている",
        contact_route="担任経由",
        guardian_consent=GuardianConsentStatus.GIVEN,
        status=ReferralStatus.ACCEPTED,
        learner_id=learner.id,
    )
    db.session.add(referral)
    db.session.flush()
    db.session.add(
        ReferralEvent(referral_id=referral.id, status=ReferralStatus.ACCEPTED, actor_id=None)
    )
    consent = SharingConsent(
        learner_id=learner.id,
        organisation_id=school.id,
        attendance_rate=True,
        learner_agreed_on=date(2026, 4, 1),
        guardian_name="母",
        guardian_agreed_on=date(2026, 4, 1),
    )
    db.session.add(consent)
    db.session.flush()
    return {
        "organisation_id": school.id,
        "referral_id": referral.id,
        "consent_id": consent.id,
    }


def _learner_records(learner, tutor) -> dict:
    """Create one of each record of a learner; return the ids the routes name."""
    from datetime import date

    from tutoring.notes.models import CaseReview, StudyNote, Visibility
    from tutoring.records import models as r

    subject = r.ExamSubject(name="数学", kind=list(r.SubjectKind)[0])
    exam_round = r.ExamRound(year=2026, number=2, exam_on=date(2026, 11, 7))
    db.session.add_all([subject, exam_round])
    db.session.flush()
    items = {
        "consultations": r.Consultation(learner_id=learner.id, held_on=date(2026, 4, 10)),
        "goals": r.Goal(learner_id=learner.id, text="高卒認定に合格する"),
        "plan": r.PlanItem(learner_id=learner.id, subject_id=subject.id),
        "credits": r.SubjectCredit(
            learner_id=learner.id, subject_id=subject.id, source=list(r.CreditSource)[0]
        ),
        "outcomes": r.Outcome(
            learner_id=learner.id, kind=list(r.OutcomeKind)[0], occurred_on=date(2026, 10, 1)
        ),
        "exams": r.ExamAttempt(learner_id=learner.id, round_id=exam_round.id),
        "consent": r.GuardianConsent(
            learner_id=learner.id,
            given_by="母",
            given_on=date(2026, 4, 1),
            method=list(r.ConsentMethod)[0],
        ),
        "notes": StudyNote(
            learner_id=learner.id,
            author_id=tutor.id,
            subject="数学",
            body="一次関数",
            visibility=Visibility.STAFF,
        ),
        "reviews": CaseReview(learner_id=learner.id, held_on=date(2026, 7, 1)),
    }
    db.session.add_all(items.values())
    db.session.flush()
    return {
        "subject_id": subject.id,
        "round_id": exam_round.id,
        "consent_id": items["consent"].id,
        "note_id": items["notes"].id,
        "review_id": items["reviews"].id,
        "items": {name: item.id for name, item in items.items()},
    }


def concrete_path(template: str, world: dict) -> str:
    if template.startswith("/invite/"):
        return f"/invite/{world['invitation']}"
    if template.startswith("/calendar/"):
        return f"/calendar/{world['feed']}.ics"
    # <item_id> names the record kind written before it: /learners/1/goals/<item_id>
    kind = re.search(r"/([a-z_-]+)/<item_id>", template)
    values = {
        **world["values"],
        "item_id": world["values"]["items"][kind.group(1)] if kind else None,
    }
    return re.sub(r"<([^>]+)>", lambda m: str(values[m.group(1)]), template)
