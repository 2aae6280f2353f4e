"""A realistic fiscal year of a learning-support program, generated into a database.

`generate_program_year(learners=500, fiscal_year=2025, seed=1)` fills the database of the
current app context with bulk inserts (service calls would take minutes): a coordinator, one
tutor per 20 learners, 7 venues, the learners' profiles (40% continuing from the year before,
the rest joining through the year), a weekly study session per learner from the day they join
until they pause or the year ends (about 55% online), with the statuses a year has (held,
no-show, cancelled), the learning consultation that starts each new learner's support, the
learner's attendance with minutes in the room for online sessions, consultation records,
status changes, two exam rounds with attempts, subjects and certificates, and outcomes.
It returns what it made. Other benchmarks import it (e.g. an HTTP load test of the report).

CLI: .venv/bin/python bench/program_year.py --database-url URL [--learners 500]
     [--fiscal-year 2025] [--seed 1]
creates the schema when the database has none, then generates the year into it.
"""

from __future__ import annotations

import argparse
import random
import secrets
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import insert, inspect, select

from tutoring.extensions import db

TOKYO = ZoneInfo("Asia/Tokyo")
VENUES = (
    "中央公民館",
    "北部市民センター",
    "南部図書館",
    "東部ユースプラザ",
    "西部公民館",
    "駅前学習室",
    "子ども若者センター",
)
SUBJECTS_PER_ATTEMPT = (1, 2, 2, 3, 3, 4)


def _chunks(rows: list[dict], size: int = 5000):
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


def _insert(model, rows: list[dict]) -> None:
    for part in _chunks(rows):
        db.session.execute(insert(model), part)


def generate_program_year(
    learners: int = 500, fiscal_year: int = 2025, seed: int = 1
) -> dict[str, int]:
    """Insert a program's fiscal year into the app's database; return the counts made.

    Call inside an app context, on a database with the schema and no program yet. Commits.
    """
    from tutoring.attendance.models import Attendance, ParticipantRole
    from tutoring.people.models import LearnerProfile, LearnerStatus, Role, TutorAssignment, User
    from tutoring.records import service as records
    from tutoring.records.models import (
        Consultation,
        ExamAttempt,
        ExamAttemptSubject,
        ExamRound,
        ExamSubject,
        Outcome,
        OutcomeKind,
        StatusChange,
        SubjectResult,
    )
    from tutoring.scheduling.models import TutoringSession, Venue

    rng = random.Random(seed)
    first_day, last_day = date(fiscal_year, 4, 1), date(fiscal_year + 1, 3, 31)
    created = datetime.combine(first_day - timedelta(days=400), time(), tzinfo=UTC)
    tutors_n = max(1, learners // 20)

    people = [{"email": "coordinator@example.org", "name": "佐藤 恵美", "role": Role.COORDINATOR}]
    people += [
        {"email": f"tutor{n}@example.org", "name": f"支援員 {n:02d}", "role": Role.TUTOR}
        for n in range(tutors_n)
    ]
    people += [
        {"login_name": f"learner{n}", "name": f"学習者 {n:03d}", "role": Role.LEARNER}
        for n in range(learners)
    ]
    for person in people:
        person["created_at"] = created
    _insert(User, people)
    tutor_ids = list(
        db.session.scalars(select(User.id).where(User.role == Role.TUTOR).order_by(User.id))
    )
    learner_ids = list(
        db.session.scalars(select(User.id).where(User.role == Role.LEARNER).order_by(User.id))
    )
    _insert(
        Venue,
        [{"name": name, "address": "", "online": False, "active": True} for name in VENUES],
    )
    venue_ids = list(db.session.scalars(select(Venue.id).order_by(Venue.id)))
    records.seed_subjects()
    subject_ids = list(db.session.scalars(select(ExamSubject.id).order_by(ExamSubject.position)))
    _insert(
        ExamRound,
        [
            {"year": fiscal_year, "number": 1, "exam_on": date(fiscal_year, 8, 1)},
            {"year": fiscal_year, "number": 2, "exam_on": date(fiscal_year, 11, 7)},
        ],
    )
    round_ids = list(db.session.scalars(select(ExamRound.id).order_by(ExamRound.exam_on)))

    profiles, assignments, sessions, consultations = [], [], [], []
    changes, outcomes, plan = [], [], []
    for index, learner in enumerate(learner_ids):
        tutor = tutor_ids[index % tutors_n]
        continuing = rng.random() < 0.4
        if continuing:
            enrolled = first_day - timedelta(days=rng.randint(30, 700))
            start = first_day
        else:
            enrolled = first_day + timedelta(days=rng.randint(0, 330))
            start = enrolled
        # Some learners pause during the year; their sessions stop there.
        pause, status = start + timedelta(days=rng.randint(30, 300)), LearnerStatus.ACTIVE
        if rng.random() < 0.15 and pause < last_day:
            status = rng.choice([LearnerStatus.PAUSED, LearnerStatus.ENDED])
            changes.append({"learner_id": learner, "status": status, "since": pause})
        else:
            pause = None
        profiles.append(
            {"user_id": learner, "enrolled_on": enrolled, "status": status, "status_since": pause}
        )
        assignments.append({"learner_id": learner, "tutor_id": tutor})
        online = rng.random() < 0.55
        venue = None if online else venue_ids[index % len(venue_ids)]
        # One weekly slot per learner within the tutor's week: never two at once.
        slot = index // tutors_n
        weekday, hour = slot % 6, 9 + 2 * (slot // 6 % 6)
        day = start + timedelta(days=(weekday - start.weekday()) % 7)
        end = min(last_day, pause or last_day)
        if not continuing:
            # The learning consultation a week before the first study session.
            first = day - timedelta(weeks=1)
            sessions.append((learner, tutor, "consultation", online, venue, first, hour, "held"))
        if continuing:
            # Last year's last weeks: they belong to the year before.
            for week in range(1, 7):
                earlier = day - timedelta(weeks=week)
                sessions.append((learner, tutor, "study", online, venue, earlier, hour, "held"))
        while day <= end:
            roll = rng.random()
            status = "held" if roll < 0.84 else "no_show" if roll < 0.94 else "cancelled"
            sessions.append((learner, tutor, "study", online, venue, day, hour, status))
            day += timedelta(weeks=1)
        if rng.random() < 0.1:
            consultations.append(
                {
                    "learner_id": learner,
                    "held_on": first_day + timedelta(days=rng.randint(0, 360)),
                    "own_words": "",
                    "notes": "電話での相談",
                }
            )
        if rng.random() < 0.3:
            for round_id in rng.sample(round_ids, rng.choice([1, 1, 2])):
                taken = rng.sample(subject_ids, rng.choice(SUBJECTS_PER_ATTEMPT))
                results = [
                    SubjectResult.PASSED if rng.random() < 0.6 else SubjectResult.FAILED
                    for _ in taken
                ]
                plan.append((learner, round_id, taken, results))
        if rng.random() < 0.25:
            outcomes.append(
                {
                    "learner_id": learner,
                    "kind": rng.choice(list(OutcomeKind)),
                    "occurred_on": first_day + timedelta(days=rng.randint(0, 364)),
                    "note": "",
                }
            )
    _insert(LearnerProfile, profiles)
    _insert(TutorAssignment, assignments)
    _insert(StatusChange, changes)
    _insert(Consultation, consultations)
    _insert(Outcome, outcomes)

    rows = []
    for learner, tutor, kind, online, venue, day, hour, status in sessions:
        starts = datetime.combine(day, time(hour), tzinfo=TOKYO).astimezone(UTC)
        rows.append(
            {
                "learner_id": learner,
                "tutor_id": tutor,
                "kind": kind,
                "mode": "online" if online else "in_person",
                "venue_id": venue,
                "starts_at": starts,
                "ends_at": starts + timedelta(hours=1 if kind == "consultation" else 2),
                "status": status,
                "room_name": secrets.token_hex(16),
            }
        )
    _insert(TutoringSession, rows)
    held_online = db.session.execute(
        select(TutoringSession.id, TutoringSession.learner_id).where(
            TutoringSession.status.in_(("held", "no_show")), TutoringSession.mode == "online"
        )
    ).all()
    _insert(
        Attendance,
        [
            {
                "session_id": session_id,
                "user_id": learner,
                "role": ParticipantRole.LEARNER,
                "status": "present",
                "derived_status": "present",
                "minutes_present": rng.randint(60, 120),
            }
            for session_id, learner in held_online
        ],
    )

    attempts = [
        {
            "learner_id": learner,
            "round_id": round_id,
            "certificate_obtained": all(r is SubjectResult.PASSED for r in results)
            and rng.random() < 0.5,
        }
        for learner, round_id, _taken, results in plan
    ]
    _insert(ExamAttempt, attempts)
    attempt_ids = {
        (learner, round_id): attempt_id
        for attempt_id, learner, round_id in db.session.execute(
            select(ExamAttempt.id, ExamAttempt.learner_id, ExamAttempt.round_id)
        )
    }
    _insert(
        ExamAttemptSubject,
        [
            {"attempt_id": attempt_ids[(learner, round_id)], "subject_id": s, "result": r}
            for learner, round_id, taken, results in plan
            for s, r in zip(taken, results, strict=True)
        ],
    )
    db.session.commit()
    return {
        "learners": learners,
        "tutors": tutors_n,
        "venues": len(venue_ids),
        "sessions": len(rows),
        "attendance": len(held_online),
        "consultation_records": len(consultations),
        "status_changes": len(changes),
        "exam_attempts": len(attempts),
        "outcomes": len(outcomes),
    }


def main() -> None:
    from tutoring import create_app

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--learners", type=int, default=500)
    parser.add_argument("--fiscal-year", type=int, default=2025)
    parser.add_argument("--seed", type=int, default=1)
    options = parser.parse_args()
    app = create_app({"DATABASE_URL": options.database_url, "SECRET_KEY": "bench", "TESTING": True})
    with app.app_context():
        if not inspect(db.engine).has_table("users"):
            db.create_all()
        made = generate_program_year(options.learners, options.fiscal_year, options.seed)
    for what, n in made.items():
        print(f"{what:<22} {n}")


if __name__ == "__main__":
    main()
