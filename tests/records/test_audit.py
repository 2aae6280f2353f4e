"""The audit log: staff reads and every change, with who, when and the request; never the text."""

from __future__ import annotations

import json

from tests.records.conftest import form_post
from tutoring.extensions import db
from tutoring.records.models import AuditEntry

SECRET = "とても個人的な内容 7f3a"


def entries(app) -> list[AuditEntry]:
    with app.app_context():
        found = db.session.query(AuditEntry).order_by(AuditEntry.id).all()
        db.session.expunge_all()
        return found


def test_staff_reads_are_logged_with_request_id(app, client, login_as, world, api):
    login_as(world.tutor)
    client.get(f"/learners/{world.learner.id}", headers={"X-Request-Id": "req-abc-123"})
    client.get(f"/learners/{world.learner.id}/notes")
    api(world.coordinator, "GET", f"/api/v1/learners/{world.learner.id}")
    api(world.coordinator, "GET", f"/api/v1/learners/{world.learner.id}/notes")
    found = [(e.actor_id, e.action, e.target, e.learner_id) for e in entries(app)]
    assert found == [
        (world.tutor.id, "read", "record", world.learner.id),
        (world.tutor.id, "read", "notes", world.learner.id),
        (world.coordinator.id, "read", "record", world.learner.id),
        (world.coordinator.id, "read", "notes", world.learner.id),
    ]
    logged = entries(app)
    assert logged[0].request_id == "req-abc-123"
    assert logged[0].actor_role == "tutor"
    assert len({e.request_id for e in logged}) == 4
    assert all(e.at is not None for e in logged)


def test_learners_reading_their_own_record_are_not_logged(app, client, login_as, world, api):
    login_as(world.learner)
    client.get("/my/record")
    api(world.learner, "GET", f"/api/v1/learners/{world.learner.id}/notes")
    assert entries(app) == []


def test_changes_are_logged_without_their_text(app, client, login_as, world, api):
    path = f"/api/v1/learners/{world.learner.id}/notes"
    note = api(
        world.tutor, "POST", path, {"subject": "数学", "body": SECRET, "visibility": "staff"}
    ).json
    api(world.tutor, "PATCH", f"{path}/{note['id']}", {"homework": SECRET, "visibility": "learner"})
    login_as(world.coordinator)
    form_post(
        client,
        f"/learners/{world.learner.id}/goals/new",
        {"text": SECRET, "target_on": "", "status": "open"},
    )
    changes = [e for e in entries(app) if e.action != "read"]
    assert [(e.action, e.target, e.actor_id) for e in changes] == [
        ("create", "note", world.tutor.id),
        ("update", "note", world.tutor.id),
        ("create", "goal", world.coordinator.id),
    ]
    assert changes[1].fields == ["homework", "visibility"]
    assert changes[0].target_id == note["id"]
    with app.app_context():
        dump = json.dumps(
            [
                [getattr(e, c.name) for c in AuditEntry.__table__.columns]
                for e in db.session.query(AuditEntry)
            ],
            default=str,
            ensure_ascii=False,
        )
    assert SECRET not in dump


def test_admin_reviews_the_log_with_filters(app, client, login_as, world, api):
    api(world.tutor, "GET", f"/api/v1/learners/{world.learner.id}")
    api(world.other_tutor, "GET", f"/api/v1/learners/{world.other_learner.id}")
    login_as(world.admin)

    def rows(query: str = "") -> str:
        return client.get(f"/admin/audit{query}").get_data(as_text=True).split("<tbody>")[1]

    everything = rows()
    assert world.learner.name in everything
    assert world.other_learner.name in everything
    one = rows(f"?learner_id={world.learner.id}")
    assert world.tutor.name in one
    assert world.other_tutor.name not in one
    by_actor = rows(f"?actor_id={world.other_tutor.id}&action=read")
    assert world.other_learner.name in by_actor
    assert world.tutor.name not in by_actor
    assert "No entries." in rows("?action=erase&from=2026-01-01&to=2026-01-02")
    assert "No entries." not in rows("?action=read&from=2000-01-01")


def test_only_admins_see_the_log(client, login_as, world):
    for account in (world.coordinator, world.tutor, world.learner):
        login_as(account)
        assert client.get("/admin/audit").status_code == 403
