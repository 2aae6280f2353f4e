"""The report's index on sessions: the year's held sessions counted without visiting the table.

The report groups a period's held sessions by kind, place, learner and month; this covering
index answers those queries from the index alone (status, then the time range), which keeps
a large program's year (tens of thousands of sessions) within a second. Declared here
because the report is what needs it.
"""

from __future__ import annotations

from sqlalchemy import Index

from tutoring.scheduling.models import TutoringSession

Index(
    "ix_sessions_report",
    TutoringSession.status,
    TutoringSession.starts_at,
    TutoringSession.kind,
    TutoringSession.mode,
    TutoringSession.venue_id,
    TutoringSession.learner_id,
    TutoringSession.ends_at,
)
