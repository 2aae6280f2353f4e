"""Partners at the scale of a large liaison council: the liaison's list, API and CSV, the
council view.

Generates 12 partner schools with 50 referrals each (600 referrals, 480 accepted with a
learner, a consent to share every field and 20 weeks of weekly sessions with attendance,
3 outreach contacts each), then times, as one school's liaison, the referrals page, the API
list and the CSV export (each shows the consented fields of 40 accepted students), and as the
coordinator the council view of all 600 (p50/p99), with the SQL queries each request makes.
Prints peak memory.

Usage: .venv/bin/python bench/partners.py [--requests N]   (SQLite in a temporary folder)
"""

from __future__ import annotations

import argparse
import random
import resource
import tempfile
import time
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import event, insert, select, text

from tutoring import create_app
from tutoring.extensions import db

SCHOOLS = 12
PER_SCHOOL = 50
ACCEPTED_SHARE = 0.8
WEEKS = 20


def percentile(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def generate(now: datetime, rng: random.Random) -> dict[str, int]:
    from tutoring.attendance.models import Attendance, AttendanceStatus, ParticipantRole
    from tutoring.partners.models import (
        GuardianConsentStatus,
        Liaison,
        Organisation,
        OrganisationKind,
        OutreachContact,
        OutreachWay,
        Referral,
        ReferralEvent,
        ReferralStatus,
        SharingConsent,
    )
    from tutoring.people.models import LearnerProfile, Role, User
    from tutoring.scheduling.models import Kind, Mode, Status, TutoringSession

    made = {"referrals": 0, "accepted": 0, "sessions": 0, "outreach": 0}
    coordinator = User(email="coordinator@example.org", name="佐藤 恵美", role=Role.COORDINATOR)
    tutor = User(email="tutor@example.org", name="鈴木 健一", role=Role.TUTOR)
    db.session.add_all([coordinator, tutor])
    db.session.flush()
    for s in range(SCHOOLS):
        school = Organisation(name=f"高校 {s:02d}", kind=OrganisationKind.SCHOOL)
        liaison = User(email=f"liaison{s}@example.org", name=f"連絡担当 {s}", role=Role.LIAISON)
        db.session.add_all([school, liaison])
        db.session.flush()
        db.session.add(Liaison(user_id=liaison.id, organisation_id=school.id))
        for n in range(PER_SCHOOL):
            accepted = rng.random() < ACCEPTED_SHARE
            learner = None
            if accepted:
                learner = User(name=f"生徒 {s:02d}-{n:02d}", role=Role.LEARNER)
                db.session.add(learner)
                db.session.flush()
                db.session.add(LearnerProfile(user_id=learner.id, birth_year=2009))
            referral = Referral(
                organisation_id=school.id,
                submitted_by_id=liaison.id,
                student_name=f"生徒 {s:02d}-{n:02d}",
                school_year="2年",
                situation="欠席が続いている。" * 5,
                tried="家庭訪問",
                contact_route="担任経由",
                guardian_consent=GuardianConsentStatus.GIVEN,
                status=ReferralStatus.ACCEPTED if accepted else ReferralStatus.SUBMITTED,
                learner_id=learner.id if learner else None,
                submitted_at=now - timedelta(days=rng.randint(30, 300)),
            )
            db.session.add(referral)
            db.session.flush()
            made["referrals"] += 1
            events = [ReferralStatus.SUBMITTED] + ([ReferralStatus.ACCEPTED] if accepted else [])
            for status in events:
                db.session.add(
                    ReferralEvent(referral_id=referral.id, status=status, message="確認しました")
                )
            if learner is None:
                continue
            made["accepted"] += 1
            db.session.add(
                SharingConsent(
                    learner_id=learner.id,
                    organisation_id=school.id,
                    attendance_rate=True,
                    back_at_school=True,
                    exam_progress=True,
                    learner_agreed_on=date(2026, 4, 1),
                    guardian_name="母",
                    guardian_agreed_on=date(2026, 4, 1),
                )
            )
            for k in range(3):
                db.session.add(
                    OutreachContact(
                        learner_id=learner.id,
                        contacted_on=(now - timedelta(days=10 * k + 1)).date(),
                        way=OutreachWay.VISIT,
                        who="佐藤",
                        outcome="会えた",
                    )
                )
                made["outreach"] += 1
            rows = []
            for w in range(WEEKS):
                starts = now - timedelta(weeks=w + 1)
                rows.append(
                    {
                        "learner_id": learner.id,
                        "tutor_id": tutor.id,
                        "kind": Kind.STUDY,
                        "mode": Mode.ONLINE,
                        "starts_at": starts,
                        "ends_at": starts + timedelta(hours=2),
                        "status": Status.HELD,
                        "room_name": f"r{learner.id}-{w}",
                    }
                )
            db.session.execute(insert(TutoringSession), rows)
            ids = db.session.scalars(
                select(TutoringSession.id).where(TutoringSession.learner_id == learner.id)
            ).all()
            db.session.execute(
                insert(Attendance),
                [
                    {
                        "session_id": i,
                        "user_id": learner.id,
                        "role": ParticipantRole.LEARNER,
                        "status": AttendanceStatus.PRESENT
                        if rng.random() < 0.7
                        else AttendanceStatus.ABSENT,
                    }
                    for i in ids
                ],
            )
            made["sessions"] += len(ids)
    db.session.commit()
    return made


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=30)
    args = parser.parse_args()
    rng = random.Random(7)
    with tempfile.TemporaryDirectory() as folder:
        app = create_app(
            {
                "TESTING": True,
                "SECRET_KEY": "bench",
                "DATABASE_URL": f"sqlite:///{folder}/b.db",
                "TWO_FACTOR_REQUIRED_ROLES": [],
            },
            instance_path=folder,
        )
        now = datetime.now(UTC)
        with app.app_context():
            from tutoring.people.models import User

            db.create_all()
            started = time.perf_counter()
            made = generate(now, rng)
            db.session.execute(text("ANALYZE"))
            liaison = db.session.scalar(select(User).where(User.email == "liaison0@example.org"))
            coordinator = db.session.scalar(
                select(User).where(User.email == "coordinator@example.org")
            )
            keys = {
                "liaison": f"{liaison.id}.{liaison.session_version}",
                "coordinator": f"{coordinator.id}.{coordinator.session_version}",
            }
            engine = db.engine
        print(
            f"SQLite, in-process client; generated in {time.perf_counter() - started:.1f} s: "
            + ", ".join(f"{v} {k}" for k, v in made.items())
        )
        queries = [0]

        def count(*_args) -> None:
            queries[0] += 1

        event.listen(engine, "before_cursor_execute", count)

        def measure(what: str, who: str, path: str) -> None:
            client = app.test_client()
            with client.session_transaction() as browser:
                browser["_user_id"] = keys[who]
                browser["_fresh"] = True
            client.get(path).get_data()  # warm up
            samples = []
            queries[0] = 0
            for _ in range(args.requests):
                start = time.perf_counter()
                response = client.get(path)
                response.get_data()
                samples.append(time.perf_counter() - start)
                assert response.status_code == 200, (path, response.status_code)
            print(
                f"{what:<52} n={len(samples):<3} p50={percentile(samples, 50) * 1000:7.1f} ms"
                f"  p99={percentile(samples, 99) * 1000:7.1f} ms"
                f"  queries/request={queries[0] / len(samples):.0f}"
            )

        measure("liaison GET /partners (50 referrals, 40 shared)", "liaison", "/partners")
        measure("liaison GET /api/v1/partners/referrals", "liaison", "/api/v1/partners/referrals")
        measure("liaison GET /partners/export.csv", "liaison", "/partners/export.csv")
        measure(
            "coordinator GET /partners/council (all 600)",
            "coordinator",
            "/partners/council?kind=all&since=2026-01-01",
        )
        measure("coordinator GET /partners (600 referrals)", "coordinator", "/partners")
        print(f"peak memory {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
