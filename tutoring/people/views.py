"""Account management for coordinators, and each user's own settings."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required
from wtforms.fields.choices import SelectChoice

from tutoring.auth import service as auth_service
from tutoring.auth.forms import EmptyForm
from tutoring.auth.permissions import managers_only
from tutoring.auth.signals import sessions_ended
from tutoring.extensions import db
from tutoring.forms_util import attach_error, safe_next
from tutoring.people import service
from tutoring.people.forms import (
    ROLE_LABELS,
    LanguageForm,
    NewUserForm,
    SettingsForm,
    role_label,
)
from tutoring.people.models import Role, User
from tutoring.validation import ValidationError

bp = Blueprint("people", __name__)
# Every page names roles the same way (people/_role.html).
bp.add_app_template_global(role_label)


def _creatable_roles() -> list[SelectChoice]:
    return [
        SelectChoice(r.value, str(ROLE_LABELS[r]))
        for r in Role
        # Liaisons belong to a partner organisation: they are made on its page (partners).
        if service.can_create_role(current_user, r) and r is not Role.LIAISON
    ]


@bp.get("/people")
@managers_only
def index():
    """List accounts, filtered by role."""
    role = request.args.get("role")
    role = Role(role) if role in {r.value for r in Role} else None
    return render_template(
        "people/index.html",
        users=service.list_users(role),
        role=role,
        roles=list(Role),
        action_form=EmptyForm(),
    )


@bp.route("/people/new", methods=["GET", "POST"])
@managers_only
def create():
    """Create an account; without a password an invitation link is made at once."""
    form = NewUserForm()
    form.role.choices = _creatable_roles()
    if form.validate_on_submit():
        try:
            user = service.create_user(
                current_user,
                name=form.name.data,
                role=service.parse_role(form.role.data),
                email=form.email.data or None,
                password=form.password.data or None,
            )
            raw = None
            if not form.password.data:
                _invitation, raw = auth_service.create_invitation(current_user, user)
        except ValidationError as error:
            db.session.rollback()
            attach_error(form, error)
        else:
            db.session.commit()
            flash(_("The account of %(name)s has been created.", name=user.name), "success")
            if raw:
                return render_template(
                    "people/invitation_link.html", user=user, link=_invite_url(raw)
                )
            return redirect(url_for("people.index"))
    return render_template("people/new.html", form=form)


def _invite_url(raw: str) -> str:
    return url_for("auth.invitation", token=raw, _external=True)


def _managed_user(user_id: int) -> User:
    """Return a user the current coordinator or admin may manage, else 404."""
    user = db.session.get(User, user_id)
    if user is None or not service.can_create_role(current_user, user.role):
        abort(404)
    return user


@bp.post("/people/<int:user_id>/invitation")
@managers_only
def invite(user_id: int):
    """Make a new invitation link for an account (e.g. a learner who lost theirs)."""
    user = _managed_user(user_id)
    _invitation, raw = auth_service.create_invitation(current_user, user)
    db.session.commit()
    return render_template("people/invitation_link.html", user=user, link=_invite_url(raw))


@bp.post("/people/<int:user_id>/active")
@managers_only
def set_active(user_id: int):
    """Disable or re-enable an account."""
    user = _managed_user(user_id)
    active = request.form.get("active") == "1"
    try:
        service.set_active(current_user, user, active)
    except ValidationError as error:
        flash(str(error.message), "error")
    else:
        db.session.commit()
        if not active:
            sessions_ended.send(user.id)
        if active:
            flash(_("%(name)s can sign in again.", name=user.name), "info")
        else:
            flash(_("%(name)s can no longer sign in.", name=user.name), "info")
    return redirect(url_for("people.index"))


@bp.route("/settings", methods=["GET", "POST"])
@login_required
def settings():
    """Change one's own name and language."""
    form = SettingsForm(obj=current_user)
    if request.method == "GET":
        form.locale.data = current_user.locale or ""
    if form.validate_on_submit():
        try:
            service.update_settings(
                current_user, name=form.name.data, locale=form.locale.data or None
            )
        except ValidationError as error:
            attach_error(form, error)
        else:
            db.session.commit()
            session.pop("locale", None)
            flash(_("Your settings have been saved."), "success")
            return redirect(url_for("people.settings"))
    return render_template("people/settings.html", form=form)


@bp.post("/language")
def language():
    """Switch the interface language; remembered on the account when signed in."""
    form = LanguageForm()
    locale = form.locale.data
    if not form.validate_on_submit() or locale not in current_app.config["LANGUAGES"]:
        abort(400)
    if current_user.is_authenticated:
        service.update_settings(current_user, name=current_user.name, locale=locale)
        db.session.commit()
    session["locale"] = locale
    return redirect(safe_next(form.next.data, url_for("dashboard.index")))
