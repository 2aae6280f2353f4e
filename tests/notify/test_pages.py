"""Pages: one's own notification settings, a coordinator's view, the delivery log, the app shell."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from tests.conftest import csrf_token
from tests.notify.conftest import LINE_ID, messages, run, tokyo
from tutoring.extensions import db
from tutoring.notify.models import NotificationPreference

START = tokyo(2026, 12, 2, 16, 0)


def form(client, page: str, **values) -> dict:
    data = {
        "csrf_token": csrf_token(client, page),
        "email_enabled": "y",
        "line_enabled": "y",
        "push_enabled": "y",
        "remind_day_before": "y",
        "remind_hour_before": "y",
        "quiet_start": "21:00",
        "quiet_end": "08:00",
        "locale": "",
    }
    data.update(values)
    return {k: v for k, v in data.items() if v is not None}


def preference(app, account) -> NotificationPreference | None:
    with app.app_context():
        found = db.session.get(NotificationPreference, account.id)
        if found is not None:
            db.session.expunge(found)
        return found


def test_a_learner_sets_quiet_hours_and_turns_a_reminder_off(app, client, login_as, program):
    login_as(program.learner)
    page = client.get("/settings/notifications")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'aria-current="page"' in html
    assert "/settings/notifications" in html
    response = client.post(
        "/settings/notifications",
        data=form(
            client,
            "/settings/notifications",
            remind_day_before=None,
            quiet_start="22:00",
            quiet_end="07:30",
            locale="en",
        ),
    )
    assert response.status_code == 302
    saved = preference(app, program.learner)
    assert saved.remind_day_before is False
    assert saved.remind_hour_before is True
    assert saved.quiet_start.strftime("%H:%M") == "22:00"
    assert saved.locale == "en"
    assert saved.updated_by_id == program.learner.id


def test_half_quiet_hours_are_refused_naming_the_field(app, client, login_as, program):
    login_as(program.learner)
    response = client.post(
        "/settings/notifications",
        data=form(client, "/settings/notifications", quiet_end=""),
    )
    assert response.status_code == 400
    assert 'id="quiet_end-error"' in response.get_data(as_text=True)
    assert preference(app, program.learner) is None


def test_a_learner_cannot_set_a_line_id_for_themselves(app, client, login_as, program):
    login_as(program.learner)
    client.post(
        "/settings/notifications",
        data=form(client, "/settings/notifications", line_user_id=LINE_ID),
    )
    assert preference(app, program.learner).line_user_id is None


def test_a_coordinator_links_a_learners_line_account(app, client, login_as, program):
    login_as(program.coordinator)
    page = f"/people/{program.learner.id}/notifications"
    assert program.learner.name in client.get(page).get_data(as_text=True)
    bad = client.post(page, data=form(client, page, line_user_id="not-a-line-id"))
    assert bad.status_code == 400
    assert 'id="line_user_id-error"' in bad.get_data(as_text=True)
    good = client.post(page, data=form(client, page, line_user_id=LINE_ID))
    assert good.status_code == 302
    saved = preference(app, program.learner)
    assert saved.line_user_id == LINE_ID
    assert saved.updated_by_id == program.coordinator.id


@pytest.mark.parametrize("role", ["learner", "tutor"])
def test_only_coordinators_see_others_settings_and_the_log(client, login_as, program, role):
    login_as(getattr(program, role))
    assert client.get(f"/people/{program.other_learner.id}/notifications").status_code == 403
    assert client.get("/notifications/log").status_code == 403
    assert client.get("/notifications/person?user_id=1").status_code == 403


def test_unknown_people_are_404_and_signed_out_visitors_sign_in(client, login_as, program):
    assert client.get("/settings/notifications").status_code == 302
    assert client.get("/notifications/log").status_code == 302
    login_as(program.coordinator)
    assert client.get("/people/99999/notifications").status_code == 404


def test_the_delivery_log_lists_and_filters_what_was_sent_and_what_failed(
    app, client, login_as, program, book, link_line, line_api
):
    link_line(program.learner)
    link_line(program.tutor, "U" + "2" * 32)
    book(START)
    line_api.respond(200)
    line_api.respond(403)  # the tutor blocked the account
    run(app, START - timedelta(hours=24))
    statuses = sorted(m["status"] for m in messages(app))
    assert statuses == ["failed", "sent"]
    login_as(program.coordinator)
    html = client.get("/notifications/log").get_data(as_text=True)
    assert program.learner.name in html
    assert program.tutor.name in html
    failed = client.get("/notifications/log?status=failed").get_data(as_text=True)
    assert program.tutor.name in failed
    assert f'<a href="/people/{program.learner.id}/notifications">' not in failed
    assert "LINE refused the push (403)" in failed
    mine = client.get(f"/notifications/log?recipient_id={program.learner.id}&channel=line")
    assert f'<a href="/people/{program.learner.id}/notifications">' in mine.get_data(as_text=True)
    assert "LINE refused" not in mine.get_data(as_text=True)
    dated = client.get("/notifications/log?from=2026-12-02&to=2026-12-31").get_data(as_text=True)
    assert program.tutor.name not in dated.split("<tbody>")[1].split("</tbody>")[0]


@pytest.mark.parametrize(
    ("query", "field"),
    [("status=lost", "status"), ("from=yesterday", "from"), ("recipient_id=x", "recipient_id")],
)
def test_bad_filters_answer_400_naming_the_field(client, login_as, program, query, field):
    login_as(program.coordinator)
    response = client.get(f"/notifications/log?{query}")
    assert response.status_code == 400
    assert f"“{field}”" in response.get_data(as_text=True)


def test_coordinators_find_the_log_in_the_menu_and_everyone_the_settings_tab(
    client, login_as, program
):
    login_as(program.coordinator)
    assert 'href="/notifications/log"' in client.get("/").get_data(as_text=True)
    login_as(program.learner)
    assert 'href="/notifications/log"' not in client.get("/").get_data(as_text=True)
    assert 'href="/settings/notifications"' in client.get("/settings").get_data(as_text=True)


def test_the_manifest_describes_an_installable_app(client):
    response = client.get("/manifest.webmanifest")
    assert response.status_code == 200
    assert response.mimetype == "application/manifest+json"
    manifest = json.loads(response.get_data(as_text=True))
    assert manifest["lang"] == "ja"
    assert "まなび" in manifest["name"]
    assert manifest["display"] == "standalone"
    assert manifest["scope"] == "/"
    sizes = {icon["sizes"] for icon in manifest["icons"]}
    assert {"192x192", "512x512"} <= sizes
    assert any(icon.get("purpose") == "maskable" for icon in manifest["icons"])
    for icon in manifest["icons"]:
        image = client.get(icon["src"])
        assert image.status_code == 200
        assert image.data.startswith(b"\x89PNG")
        width = int.from_bytes(image.data[16:20], "big")
        assert f"{width}x{width}" == icon["sizes"]
        image.close()


def test_the_service_worker_is_served_from_the_root_with_its_scope(client):
    response = client.get("/service-worker.js")
    assert response.status_code == 200
    assert response.mimetype == "text/javascript"
    assert response.headers["Service-Worker-Allowed"] == "/"
    assert response.headers["Cache-Control"] == "no-cache"
    assert b"showNotification" in response.data
    response.close()


def test_pages_link_the_manifest_and_allow_a_worker_from_our_origin(client, login_as, program):
    login_as(program.learner)
    response = client.get("/")
    html = response.get_data(as_text=True)
    assert '<link rel="manifest" href="/manifest.webmanifest">' in html
    assert "dist/install.js" in html
    policy = response.headers["Content-Security-Policy"]
    assert "worker-src 'self'" in policy
    assert "manifest-src 'self'" in policy


def test_the_offline_page_works_signed_out_and_shows_nothing_personal(client):
    response = client.get("/offline")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "csrf" not in html
    assert "/static/dist/app.css" in html
