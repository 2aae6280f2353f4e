"""Attendance at the scale of a year of a 500-learner program: review pages, API, exports, sweep.

Generates 500 learners with a weekly session each for 50 weeks (about 25,000 sessions, 60,000
presence intervals, 50,000 attendance rows), then times the review pages and the JSON API
(p50/p95/p99), counts their SQL queries at two page sizes, times the year's CSV and XLSX
exports, and one busy day's sweep of raw heartbeats. Prints peak memory.

Usage: .venv/bin/python bench/attendance.py [--database sqlite|postgresql] [--requests N]
PostgreSQL: a database `manabi_bench_attendance` is created on BENCH_POSTGRES_URL's server
(default postgresql+psycopg://postgres@127.0.0.1:5432/postgres) and dropped afterwards.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import secrets
import statistics
import tempfile
import time
import tracemalloc
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

from sqlalchemy import create_engine, event, insert, text
from sqlalchemy.engine import make_url

from tutoring import create_app
from tutoring.extensions import db

LEARNERS = 500
TUTORS = 25
WEEKS = 50
BENCH_DB = "manabi_bench_attendance"


def percentile(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def report(what: str, samples: list[float], queries: str = "") -> None:
    print(
        f"{what:<58} n={len(samples):<4} p50={percentile(samples, 50) * 1000:7.1f} ms"
        f"  p95={percentile(samples, 95) * 1000:7.1f} ms  p99={percentile(samples, 99) * 1000:7.1f} ms"
        f"  mean={statistics.mean(samples) * 1000:7.1f} ms{queries}"
    )


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@contextmanager
def database(kind: str):
    """Yield a database URL: a temporary SQLite file, or a fresh PostgreSQL database."""
    if kind == "sqlite":
        with tempfile.TemporaryDirectory() as folder:
            yield f"sqlite:///{folder}/bench.sqlite3", folder
        return
    server = make_url(
        os.environ.get(
            "BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
        )
    )
    admin = create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{BENCH_DB}"'))
    try:
        with tempfile.TemporaryDirectory() as folder:
            yield server.set(database=BENCH_DB).render_as_string(hide_password=False), folder
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)'))
        admin.dispose()


def chunks(rows: list[dict], size: int = 5000):
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


def generate(now: datetime, rng: random.Random) -> dict[str, int]:
    """Insert the program's year; return what was made."""
    from tutoring.attendance.models import (
        Attendance,
        AttendanceChange,
        ClosedBy,
        LearnerStanding,
        PresenceInterval,
        PresenceSource,
    )
    from tutoring.people.models import Role, TutorAssignment, User
    from tutoring.scheduling.models import TutoringSession, Venue

    created = now - timedelta(weeks=WEEKS + 4)
    people = [
        {
            "email": "coordinator@example.org",
            "name": "佐藤 恵美",
            "role": Role.COORDINATOR,
            "created_at": created,
        }
    ]
    people += [
        {
            "email": f"tutor{n}@example.org",
            "name": f"支援員 {n:02d}",
            "role": Role.TUTOR,
            "created_at": created,
        }
        for n in range(TUTORS)
    ]
    people += [
        {
            "email": f"learner{n}@example.org",
            "name": f"学習者 {n:03d}",
            "role": Role.LEARNER,
            "created_at": created,
        }
        for n in range(LEARNERS)
    ]
    db.session.execute(insert(User), people)
    ids = dict(db.session.execute(text("SELECT email, id FROM users")).all())
    tutors = [ids[f"tutor{n}@example.org"] for n in range(TUTORS)]
    learners = [ids[f"learner{n}@example.org"] for n in range(LEARNERS)]
    db.session.execute(
        insert(Venue),
        [
            {
                "name": f"会場 {n}",
                "address": "",
                "online": False,
                "active": True,
                "created_at": created,
            }
            for n in range(4)
        ],
    )
    venues = list(db.session.scalars(text("SELECT id FROM venues ORDER BY id")))
    db.session.execute(
        insert(TutorAssignment),
        [
            {"learner_id": learner, "tutor_id": tutors[i % TUTORS], "assigned_at": created}
            for i, learner in enumerate(learners)
        ],
    )

    first_monday = (now - timedelta(weeks=WEEKS)).replace(hour=1, minute=0, second=0, microsecond=0)
    sessions = []
    for i, learner in enumerate(learners):
        online = rng.random() < 0.6
        for week in range(WEEKS):
            starts = first_monday + timedelta(weeks=week, days=i % 6, hours=i % 9)
            sessions.append(
                {
                    "learner_id": learner,
                    "tutor_id": tutors[i % TUTORS],
                    "kind": "consultation" if week == 0 else "study",
                    "mode": "online" if online else "in_person",
                    "venue_id": None if online else venues[i % len(venues)],
                    "starts_at": starts,
                    "ends_at": starts + timedelta(hours=2),
                    "status": "cancelled" if rng.random() < 0.02 else "scheduled",
                    "room_name": secrets.token_hex(16),
                    "revision": 0,
                    "created_at": created,
                    "updated_at": created,
                }
            )
    for part in chunks(sessions):
        db.session.execute(insert(TutoringSession), part)
    rows = db.session.execute(
        text("SELECT id, learner_id, tutor_id, mode, starts_at, status FROM sessions ORDER BY id")
    ).all()

    records, intervals, changes, outcomes = [], [], [], []
    statuses = ["present"] * 70 + ["late"] * 8 + ["left_early"] * 4 + ["absent"] * 15
    statuses += ["excused"] * 3
    for session_id, learner, tutor, mode, starts_at, status in rows:
        if status == "cancelled":
            continue
        if isinstance(starts_at, str):
            starts_at = datetime.fromisoformat(starts_at)
        starts_at = starts_at.replace(tzinfo=UTC) if starts_at.tzinfo is None else starts_at
        if starts_at + timedelta(hours=2) > now:
            continue  # not ended yet: nothing derived
        learner_status = rng.choice(statuses)
        tutor_status = (
            ("present" if rng.random() < 0.97 else "absent") if mode == "online" else None
        )
        outcome = "held"
        if learner_status in ("absent", "excused") or tutor_status == "absent":
            outcome = "no_show"
        db_status = outcome if (mode == "online" or learner_status) else "scheduled"
        for user_id, role, value in (
            (learner, "learner", learner_status),
            (tutor, "tutor", tutor_status),
        ):
            minutes, first, last = 0, None, None
            if mode == "online" and value in ("present", "late", "left_early"):
                start = starts_at + timedelta(minutes=15 if value == "late" else rng.randint(-5, 2))
                end = starts_at + timedelta(minutes=90 if value == "left_early" else 120)
                pieces = rng.choice([1, 2, 2, 3, 3])
                cuts = sorted(rng.uniform(0, 1) for _ in range(pieces - 1))
                edges = [start] + [start + (end - start) * c for c in cuts] + [end]
                for n in range(pieces):
                    joined = edges[n] + (timedelta(minutes=2) if n else timedelta(0))
                    intervals.append(
                        {
                            "session_id": session_id,
                            "user_id": user_id,
                            "source": rng.choice(list(PresenceSource)).value,
                            "client_id": f"c{n}",
                            "joined_at": joined,
                            "left_at": edges[n + 1],
                            "closed_by": ClosedBy.LEFT.value,
                            "created_at": end,
                        }
                    )
                    minutes += int((edges[n + 1] - joined).total_seconds() // 60)
                first, last = start, end
            records.append(
                {
                    "session_id": session_id,
                    "user_id": user_id,
                    "role": role,
                    "status": value,
                    "derived_status": value,
                    "overridden": mode != "online" and role == "learner",
                    "note": None,
                    "minutes_present": minutes,
                    "first_joined_at": first,
                    "last_left_at": last,
                    "events_through": 0,
                    "derived_at": starts_at + timedelta(hours=2),
                    "updated_at": starts_at + timedelta(hours=2),
                }
            )
            if value is not None:
                changes.append(
                    {
                        "session_id": session_id,
                        "user_id": user_id,
                        "actor_id": tutor if mode != "online" else None,
                        "before": None,
                        "after": value,
                        "created_at": starts_at + timedelta(hours=2),
                    }
                )
        if db_status != "scheduled":
            outcomes.append({"status": db_status, "id": session_id})
    for part in chunks(outcomes):
        db.session.execute(text("UPDATE sessions SET status = :status WHERE id = :id"), part)
    standing = {}
    by_session = {r["session_id"]: r for r in records if r["role"] == "learner"}
    for session_id, learner, _tutor, _mode, _starts_at, _status in reversed(rows):
        record = by_session.get(session_id)
        if record is None or record["status"] not in ("present", "late", "left_early", "absent"):
            continue
        last, in_a_row, done = standing.get(learner, (None, 0, False))
        if done:
            continue
        if record["status"] == "absent":
            standing[learner] = (None, in_a_row + 1, False)
        else:
            standing[learner] = (record["derived_at"] - timedelta(hours=2), in_a_row, True)
    stands = [
        {
            "learner_id": learner,
            "last_attended_at": last,
            "absences_in_a_row": count,
            "updated_at": now,
        }
        for learner, (last, count, _done) in standing.items()
    ]
    for model, data in (
        (LearnerStanding, stands),
        (Attendance, records),
        (PresenceInterval, intervals),
        (AttendanceChange, changes),
    ):
        for part in chunks(data):
            db.session.execute(insert(model), part)
    db.session.commit()
    return {
        "learners": LEARNERS,
        "tutors": TUTORS,
        "sessions": len(sessions),
        "attendance rows": len(records),
        "intervals": len(intervals),
        "changes": len(changes),
    }


def heartbeat_day(now: datetime, rng: random.Random) -> tuple[int, list[int]]:
    """Raw presence of one busy day: 70 online sessions, both people beating every 30 s."""
    from tutoring.attendance.models import PresenceEvent
    from tutoring.scheduling.models import TutoringSession

    learners = list(
        db.session.scalars(text("SELECT id FROM users WHERE role = 'learner' ORDER BY id LIMIT 70"))
    )
    tutor_ids = list(db.session.scalars(text("SELECT id FROM users WHERE role = 'tutor'")))
    day = (now - timedelta(hours=6)).replace(minute=0, second=0, microsecond=0)
    sessions = [
        {
            "learner_id": learner,
            "tutor_id": tutor_ids[n % len(tutor_ids)],
            "kind": "study",
            "mode": "online",
            "venue_id": None,
            "starts_at": day - timedelta(hours=(n % 3) * 2),
            "ends_at": day - timedelta(hours=(n % 3) * 2) + timedelta(hours=2),
            "status": "scheduled",
            "room_name": secrets.token_hex(16),
            "revision": 0,
            "created_at": day,
            "updated_at": day,
        }
        for n, learner in enumerate(learners)
    ]
    db.session.execute(insert(TutoringSession), sessions)
    ids = list(
        db.session.scalars(
            text("SELECT id FROM sessions WHERE starts_at >= :from ORDER BY id"),
            {"from": day - timedelta(hours=5)},
        )
    )
    events = []
    for session_id, session in zip(ids, sessions, strict=False):
        for user_id in (session["learner_id"], session["tutor_id"]):
            moment = session["starts_at"] + timedelta(minutes=rng.randint(-3, 10))
            events.append(
                {
                    "session_id": session_id,
                    "user_id": user_id,
                    "source": "page",
                    "kind": "joined",
                    "client_id": "tab",
                    "occurred_at": moment,
                }
            )
            while moment < session["ends_at"]:
                moment += timedelta(seconds=30)
                events.append(
                    {
                        "session_id": session_id,
                        "user_id": user_id,
                        "source": "page",
                        "kind": "heartbeat",
                        "client_id": "tab",
                        "occurred_at": moment,
                    }
                )
    for part in chunks(events):
        db.session.execute(insert(PresenceEvent), part)
    db.session.commit()
    return len(events), ids


class Counter:
    def __init__(self) -> None:
        self.count = 0

    def __call__(self, *args) -> None:
        self.count += 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--requests", type=int, default=100)
    args = parser.parse_args()
    rng = random.Random(2026)
    with database(args.database) as (url, folder):
        app = create_app(
            {
                "TESTING": True,
                "SECRET_KEY": "bench",
                "DATABASE_URL": url,
                "API_TOKEN_LIMIT": "1000000 per minute",
            },
            instance_path=folder,
        )
        now = datetime.now(UTC)
        with app.app_context():
            from tutoring.auth.service import create_token
            from tutoring.people.models import User

            db.create_all()
            started = time.perf_counter()
            made = generate(now, rng)
            if db.engine.dialect.name == "postgresql":
                with db.engine.connect().execution_options(
                    isolation_level="AUTOCOMMIT"
                ) as connection:
                    connection.execute(text("VACUUM ANALYZE"))
            else:
                db.session.execute(text("ANALYZE"))
                db.session.commit()
            coordinator = db.session.scalar(
                db.select(User).where(User.email == "coordinator@example.org")
            )
            _token, raw = create_token(coordinator, "bench")
            coordinator_key = f"{coordinator.id}.{coordinator.session_version}"
            some_session = db.session.scalar(
                text("SELECT session_id FROM attendance_intervals LIMIT 1")
            )
            db.session.commit()
            engine = db.engine
        print(
            f"database={args.database}, in-process client; generated in "
            f"{time.perf_counter() - started:.1f} s: "
            + ", ".join(f"{value} {key}" for key, value in made.items())
        )
        client = app.test_client()
        with client.session_transaction() as browser:
            browser["_user_id"] = coordinator_key
            browser["_fresh"] = True
        bearer = {"Authorization": f"Bearer {raw}"}
        year = {
            "from": (now - timedelta(weeks=WEEKS + 2)).date().isoformat(),
            "to": now.date().isoformat(),
        }
        query = "&".join(f"{k}={v}" for k, v in year.items())
        counter = Counter()
        event.listen(engine, "before_cursor_execute", counter)

        def measure(what: str, path: str, n: int, headers=None) -> None:
            client.get(path, headers=headers)  # warm up
            samples = []
            for _ in range(n):
                start = time.perf_counter()
                response = client.get(path, headers=headers)
                response.get_data()
                samples.append(time.perf_counter() - start)
                assert response.status_code == 200, (path, response.status_code)
            report(what, samples)

        n = args.requests
        measure("GET /attendance (last 8 weeks, page 1)", "/attendance", n)
        measure("GET /attendance (the year, page 1)", f"/attendance?{query}", n)
        measure(
            "GET /attendance (the year, page 200)",
            f"/attendance?{query}&per_page=50&page=200",
            n,
        )
        measure(
            "GET /attendance/learners (the year, by rate)",
            f"/attendance/learners?{query}&sort=rate&per_page=50",
            n,
        )
        measure(
            "GET /api/v1/attendance (the year, 100 a page)",
            f"/api/v1/attendance?{query}&per_page=100",
            n,
            headers=bearer,
        )
        measure(
            "GET /api/v1/sessions/<id>/attendance",
            f"/api/v1/sessions/{some_session}/attendance",
            n,
            headers=bearer,
        )
        # The same query count whatever the page size.
        for what, path, headers in (
            ("review page", f"/attendance?{query}&per_page=PER_PAGE", None),
            ("learners page", f"/attendance/learners?{query}&per_page=PER_PAGE", None),
            ("JSON API", f"/api/v1/attendance?{query}&per_page=PER_PAGE", bearer),
        ):
            found = []
            for size in (10, 200):
                counter.count = 0
                client.get(path.replace("PER_PAGE", str(size)), headers=headers).get_data()
                found.append(counter.count)
            print(f"{'queries, ' + what:<58} per_page 10: {found[0]}, per_page 200: {found[1]}")

        for fmt, runs in (("csv", 5), ("xlsx", 3)):
            samples = []
            for _ in range(runs):
                start = time.perf_counter()
                response = client.get(f"/api/v1/attendance?format={fmt}&{query}", headers=bearer)
                body = response.get_data()
                samples.append(time.perf_counter() - start)
            # Memory the export allocates, measured in a separate run (tracing slows it down).
            tracemalloc.start()
            client.get(f"/api/v1/attendance?format={fmt}&{query}", headers=bearer).get_data()
            _current, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            lines = body.count(b"\r\n") - 1 if fmt == "csv" else "-"
            report(
                f"year export format={fmt} ({len(body) // 1024} KiB, {lines} rows)",
                samples,
                f"  allocated at peak {peak / 2**20:.0f} MiB",
            )

        event.remove(engine, "before_cursor_execute", counter)
        with app.app_context():
            events, _ids = heartbeat_day(now, rng)
            from tutoring.attendance.tasks import sweep_all

            start = time.perf_counter()
            result = sweep_all(now)
            took = time.perf_counter() - start
            print(
                f"{'sweep of one busy day (' + str(events) + ' raw events)':<58} "
                f"{took:.2f} s: settled {result.settled}, stored {result.intervals} intervals, "
                f"derived {result.derived} sessions"
            )
            start = time.perf_counter()
            again = sweep_all(now)
            print(
                f"{'sweep again (nothing to do)':<58} {time.perf_counter() - start:.3f} s: "
                f"settled {again.settled}, derived {again.derived}"
            )
            db.session.remove()
            db.engine.dispose()
    print(f"peak RSS of the process: {peak_rss_mib():.0f} MiB")


if __name__ == "__main__":
    main()
