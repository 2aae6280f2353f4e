"""The audit log of learner records: every staff read and every change, never the text.

Changes are logged by the services in the same transaction as the change. Reads are logged
by the views, which commit once; a read made while rendering another feature's page (the
room's note panel) commits its entry when the request ends.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime

from flask import after_this_request, g, has_request_context, request
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from tutoring.extensions import db
from tutoring.people.models import User
from tutoring.records.models import AuditEntry

ACTIONS = ("read", "create", "update", "delete", "export", "erase")
REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


def request_id() -> str:
    """Return this request's id: the proxy's X-Request-Id when sane, else a new one."""
    if not has_request_context():
        return ""
    if "request_id" not in g:
        given = request.headers.get("X-Request-Id", "")
        g.request_id = given if REQUEST_ID.match(given) else uuid.uuid4().hex
    return g.request_id


def record(
    actor: User | None,
    action: str,
    target: str,
    *,
    learner_id: int | None,
    target_id: int | None = None,
    fields: list[str] | None = None,
) -> AuditEntry:
    """Add an audit entry to the session (the caller commits with its change)."""
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    entry = AuditEntry(
        actor_id=actor.id if actor else None,
        actor_role=actor.role.value if actor else "system",
        action=action,
        target=target,
        target_id=target_id,
        learner_id=learner_id,
        request_id=request_id(),
        fields=sorted(fields) if fields else None,
    )
    db.session.add(entry)
    return entry


def record_read(actor: User, target: str, *, learner_id: int, target_id: int | None = None) -> None:
    """Log a staff read (learners reading their own record are not logged)."""
    if not actor.role.is_staff:
        return
    record(actor, "read", target, learner_id=learner_id, target_id=target_id)


def record_read_at_end(
    actor: User, target: str, *, learner_id: int, target_id: int | None = None
) -> None:
    """Log a staff read from inside another feature's page, committing when the request ends."""
    if not actor.role.is_staff:
        return
    record(actor, "read", target, learner_id=learner_id, target_id=target_id)
    if not g.get("audit_commit_pending"):
        g.audit_commit_pending = True

        @after_this_request
        def _commit(response):
            if response.status_code < 400:
                db.session.commit()
            return response


@dataclass(frozen=True)
class AuditFilters:
    learner_id: int | None = None
    actor_id: int | None = None
    action: str | None = None
    start: datetime | None = None
    end: datetime | None = None


def entries(filters: AuditFilters, *, limit: int = 100, offset: int = 0) -> list[AuditEntry]:
    """Return audit entries matching the filters, newest first."""
    query = select(AuditEntry).options(joinedload(AuditEntry.actor), joinedload(AuditEntry.learner))
    if filters.learner_id is not None:
        query = query.where(AuditEntry.learner_id == filters.learner_id)
    if filters.actor_id is not None:
        query = query.where(AuditEntry.actor_id == filters.actor_id)
    if filters.action:
        query = query.where(AuditEntry.action == filters.action)
    if filters.start is not None:
        query = query.where(AuditEntry.at >= filters.start)
    if filters.end is not None:
        query = query.where(AuditEntry.at < filters.end)
    query = query.order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).limit(limit).offset(offset)
    return list(db.session.scalars(query))


def changed_fields(before: dict, after: dict) -> list[str]:
    """Return the names of the keys whose values differ."""
    return sorted(key for key in after if before.get(key) != after.get(key))
