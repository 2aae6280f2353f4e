"""Pages: notification settings, a coordinator's view of them, the delivery log, the app shell."""

from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta
from pathlib import Path

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required

from tutoring.auth.forms import EmptyForm
from tutoring.auth.permissions import managers_only
from tutoring.extensions import db
from tutoring.forms_util import attach_error
from tutoring.i18n import program_zone
from tutoring.notify import (
    planner,  # noqa: F401  (connects the scheduling signal receivers)
    service,
)
from tutoring.notify.channels import clients
from tutoring.notify.channels.webpush import vapid_keys
from tutoring.notify.forms import (
    CHANNEL_LABELS,
    KIND_LABELS,
    REASON_LABELS,
    STATUS_LABELS,
    CoordinatorPreferencesForm,
    PreferencesForm,
)
from tutoring.notify.models import Channel, MessageKind, MessageStatus
from tutoring.notify.worker import background_enabled, start_background_worker
from tutoring.people.models import Role, User
from tutoring.people.service import list_users
from tutoring.validation import ValidationError

bp = Blueprint("notify", __name__)

STATIC = Path(__file__).resolve().parent.parent.parent / "static"
LOG_PAGE = 100


@bp.before_app_request
def _start_worker_thread() -> None:
    """Start the background worker with the first request of a server that runs it."""
    app = current_app._get_current_object()
    if not app.extensions.get("notify_worker_started") and background_enabled(app):
        start_background_worker(app)


def _channel_status(user: User, preference) -> dict:
    """Return what the settings page says about each channel for this person."""
    app = current_app._get_current_object()
    channels = clients(app)
    return {
        "email_configured": channels[Channel.EMAIL].configured(),
        "line_configured": channels[Channel.LINE].configured(),
        "push_configured": channels[Channel.WEBPUSH].configured(),
        "email": user.email,
        "line_linked": bool(preference.line_user_id),
        "line_disabled_at": preference.line_disabled_at,
        "devices": service.subscription_count(user),
    }


def _fill(form: PreferencesForm, preference) -> None:
    for name in (
        "email_enabled",
        "line_enabled",
        "push_enabled",
        "remind_day_before",
        "remind_hour_before",
        "quiet_start",
        "quiet_end",
    ):
        getattr(form, name).data = getattr(preference, name)
    form.locale.data = preference.locale or ""
    if hasattr(form, "line_user_id"):
        form.line_user_id.data = preference.line_user_id or ""


def _changes(form: PreferencesForm) -> service.PreferenceInput:
    changes = service.PreferenceInput(
        email_enabled=form.email_enabled.data,
        line_enabled=form.line_enabled.data,
        push_enabled=form.push_enabled.data,
        remind_day_before=form.remind_day_before.data,
        remind_hour_before=form.remind_hour_before.data,
        quiet_start=form.quiet_start.data,
        quiet_end=form.quiet_end.data,
        locale=form.locale.data or None,
    )
    if hasattr(form, "line_user_id"):
        changes.line_user_id = form.line_user_id.data or None
    return changes


def _save(form: PreferencesForm, user: User) -> bool:
    """Validate and store the form; return whether it was stored."""
    if not form.validate_on_submit():
        return False
    try:
        service.update_preferences(
            current_user, user, _changes(form), languages=tuple(current_app.config["LANGUAGES"])
        )
    except ValidationError as error:
        db.session.rollback()
        attach_error(form, error)
        return False
    db.session.commit()
    return True


@bp.route("/settings/notifications", methods=["GET", "POST"])
@login_required
def settings():
    """Choose how and when one gets reminders; turn on notifications on this device."""
    form = PreferencesForm()
    if request.method == "POST":
        if _save(form, current_user):
            flash(_("Your notification settings have been saved."), "success")
            return redirect(url_for("notify.settings"))
    preference = service.preference_for(current_user)
    if request.method == "GET":
        _fill(form, preference)
    keys = vapid_keys(current_app._get_current_object())
    status = 400 if form.errors or form.form_errors else 200
    return render_template(
        "notify/settings.html",
        form=form,
        status=_channel_status(current_user, preference),
        push_key=keys.public_key if keys else None,
        devices_form=EmptyForm(),
    ), status


@bp.post("/settings/notifications/devices/forget")
@login_required
def forget_devices():
    """Stop notifications on every device of one's own."""
    removed = service.delete_all_subscriptions(current_user)
    db.session.commit()
    flash(_("Notifications are off on %(n)d device(s).", n=removed), "info")
    return redirect(url_for("notify.settings"))


def _managed_user(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None or not service.can_manage(current_user, user):
        abort(404)
    return user


@bp.route("/people/<int:user_id>/notifications", methods=["GET", "POST"])
@managers_only
def edit_user(user_id: int):
    """Let a coordinator set someone's notification settings and link their LINE account."""
    user = _managed_user(user_id)
    form = CoordinatorPreferencesForm()
    if request.method == "POST":
        if _save(form, user):
            flash(
                _("The notification settings of %(name)s have been saved.", name=user.name),
                "success",
            )
            return redirect(url_for("notify.edit_user", user_id=user.id))
    preference = service.preference_for(user)
    if request.method == "GET":
        _fill(form, preference)
    status = 400 if form.errors or form.form_errors else 200
    return render_template(
        "notify/edit_user.html",
        form=form,
        person=user,
        status=_channel_status(user, preference),
    ), status


@bp.get("/notifications/person")
@managers_only
def choose_person():
    """Open the notification settings of the person chosen on the delivery log."""
    value = request.args.get("user_id", "")
    if not value.isdigit() or len(value) > 10:
        abort(400)
    return redirect(url_for("notify.edit_user", user_id=int(value)))


def _enum_arg(name: str, enum_class):
    value = request.args.get(name) or None
    if value is None:
        return None
    try:
        return enum_class(value)
    except ValueError:
        allowed = ", ".join(member.value for member in enum_class)
        raise ValidationError(
            name, _("“%(field)s” must be one of: %(allowed)s.", field=name, allowed=allowed)
        ) from None


def _date_arg(name: str) -> date | None:
    value = request.args.get(name) or None
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValidationError(
            name, _("“%(field)s” must be a date (YYYY-MM-DD).", field=name)
        ) from None


def log_filters() -> service.LogFilter:
    """Read the delivery log's filters from the query string (bad values: 400 naming the field)."""
    zone = program_zone()
    start, end = _date_arg("from"), _date_arg("to")
    recipient = request.args.get("recipient_id") or None
    session_id = request.args.get("session_id") or None
    for name, value in (("recipient_id", recipient), ("session_id", session_id)):
        if value is not None and (not value.isdigit() or len(value) > 10):
            raise ValidationError(name, _("“%(field)s” must be a whole number.", field=name))
    return service.LogFilter(
        status=_enum_arg("status", MessageStatus),
        channel=_enum_arg("channel", Channel),
        kind=_enum_arg("kind", MessageKind),
        recipient_id=int(recipient) if recipient else None,
        session_id=int(session_id) if session_id else None,
        start=datetime.combine(start, time(), tzinfo=zone) if start else None,
        end=datetime.combine(end + timedelta(days=1), time(), tzinfo=zone) if end else None,
    )


@bp.get("/notifications/log")
@managers_only
def log():
    """List the messages queued, sent, failed and not sent, with filters."""
    filters = log_filters()
    page = request.args.get("page", "1")
    page = int(page) if page.isdigit() and 0 < len(page) < 6 and int(page) > 0 else 1
    messages = service.delivery_log(filters, limit=LOG_PAGE + 1, offset=(page - 1) * LOG_PAGE)
    args = {k: v for k, v in request.args.items() if v and k != "page"}
    return render_template(
        "notify/log.html",
        messages=messages[:LOG_PAGE],
        more=len(messages) > LOG_PAGE,
        page=page,
        args=args,
        people=list_users(None),
        channel_labels=CHANNEL_LABELS,
        kind_labels=KIND_LABELS,
        status_labels=STATUS_LABELS,
        reason_labels=REASON_LABELS,
        roles=Role,
    )


# The installable app: manifest, service worker, offline page


@bp.get("/manifest.webmanifest")
def manifest():
    """Describe the home-screen app (Japanese name; the learner's home page as the start)."""
    icons = [
        {
            "src": url_for("static", filename=f"notify/icon-{size}.png"),
            "sizes": f"{size}x{size}",
            "type": "image/png",
        }
        for size in (192, 512)
    ]
    icons.append(
        {
            "src": url_for("static", filename="notify/icon-maskable-512.png"),
            "sizes": "512x512",
            "type": "image/png",
            "purpose": "maskable",
        }
    )
    body = {
        "name": "Manabi まなび",
        "short_name": "Manabi",
        "description": _("Your tutoring sessions, and the room to join them"),
        "lang": "ja",
        "dir": "ltr",
        "id": "/",
        "start_url": url_for("dashboard.index") + "?source=home-screen",
        "scope": "/",
        "display": "standalone",
        "orientation": "any",
        "background_color": "#f4f5f7",
        "theme_color": "#1f4fbf",
        "icons": icons,
    }
    response = Response(json.dumps(body, ensure_ascii=False), mimetype="application/manifest+json")
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response


@bp.get("/service-worker.js")
def service_worker():
    """Serve the service worker from the site's root, so it may control every page."""
    path = STATIC / "dist" / "service-worker.js"
    if not path.exists():
        abort(404)
    response = send_file(path, mimetype="text/javascript", max_age=0)
    response.headers["Service-Worker-Allowed"] = "/"
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.get("/offline")
def offline():
    """Show the page the service worker keeps for when the phone has no connection."""
    response = current_app.make_response(render_template("notify/offline.html"))
    response.headers["Cache-Control"] = "no-cache"
    return response
