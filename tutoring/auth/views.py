"""Sign-in, sign-out, invitations, password and API token pages."""

from __future__ import annotations

import math
import time

from authlib.integrations.base_client.errors import OAuthError
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
from flask_login import current_user, login_required, login_user, logout_user
from joserfc.errors import JoseError
from markupsafe import Markup

from tutoring.auth import service, two_factor
from tutoring.auth.forms import (
    CodeForm,
    EmptyForm,
    InvitationForm,
    LoginForm,
    PasswordForm,
    TokenForm,
)
from tutoring.auth.oauth import configured as oauth_providers
from tutoring.auth.permissions import roles_required
from tutoring.auth.signals import sessions_ended
from tutoring.extensions import client_address, db, limiter, oauth
from tutoring.forms_util import attach_error, safe_next
from tutoring.people.models import Role, User
from tutoring.validation import ValidationError

bp = Blueprint("auth", __name__)


def _account_key() -> str:
    return "account:" + request.form.get("email", "").strip().lower()[:254]


def _failed(response) -> bool:
    # A successful sign-in redirects; only failures count toward the limits.
    return response.status_code != 302


def _too_many_attempts(limit):
    # reset_at is rounded up by a second; do not show "16 minutes" for a 15-minute window.
    minutes = max(1, math.ceil((limit.reset_at - 1 - time.time()) / 60))
    form = LoginForm()
    form.form_errors.append(_("Too many sign-in attempts. Try again in %(n)d minutes.", n=minutes))
    return current_app.make_response(
        (render_template("auth/login.html", form=form, providers={}), 429)
    )


PENDING_SECONDS = 300


def _start_session(user, next_url: str | None = None):
    """Sign the user in with a fresh session (nothing carried over but the language).

    With a second factor, the session only remembers who passed the first step, for a few
    minutes, until /login/verify accepts a code.
    """
    locale = session.get("locale")
    session.clear()
    if locale and user.locale is None:
        session["locale"] = locale
    target = safe_next(next_url, url_for("dashboard.index"))
    if user.has_second_factor:
        session["pending_sign_in"] = {"id": user.get_id(), "next": target, "at": time.time()}
        return redirect(url_for("auth.verify"))
    _signed_in(user)
    return redirect(target)


def _signed_in(user) -> None:
    login_user(user)
    session["signed_in_at"] = session["seen_at"] = time.time()


def _pending_user():
    pending = session.get("pending_sign_in")
    if not pending or time.time() - pending["at"] > PENDING_SECONDS:
        return None, None
    user = current_app.login_manager._user_callback(pending["id"])
    return user, pending["next"]


def _pending_key() -> str:
    pending = session.get("pending_sign_in") or {}
    return "verify:" + str(pending.get("id", "none"))


def _login_page(form: LoginForm | None = None, status: int = 200, error: str | None = None):
    form = form or LoginForm(next=request.args.get("next", ""))
    if error:
        form.form_errors.append(error)
    return render_template(
        "auth/login.html", form=form, providers=oauth_providers(current_app)
    ), status


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(
    lambda: current_app.config["LOGIN_LIMIT_PER_ADDRESS"],
    key_func=client_address,
    methods=["POST"],
    deduct_when=_failed,
    on_breach=_too_many_attempts,
    scope="login-address",
)
@limiter.limit(
    lambda: current_app.config["LOGIN_LIMIT_PER_ACCOUNT"],
    key_func=_account_key,
    methods=["POST"],
    deduct_when=_failed,
    on_breach=_too_many_attempts,
    scope="login-account",
)
def login():
    """Sign in with e-mail (or login name) and password."""
    if current_user.is_authenticated:
        return redirect(url_for("dashboard.index"))
    form = LoginForm(next=request.args.get("next", ""))
    if form.validate_on_submit():
        user = service.authenticate(form.email.data, form.password.data)
        if user is not None:
            db.session.commit()
            return _start_session(user, form.next.data)
        return _login_page(form, 401, _("The e-mail/login name or the password is not correct."))
    return _login_page(form)


def _provider_client(provider: str):
    if provider not in oauth_providers(current_app):
        abort(404)
    return oauth.create_client(provider)


@bp.get("/login/<provider>")
@limiter.limit("30 per 15 minutes", key_func=client_address)
def external_login(provider: str):
    """Send the browser to the identity provider (state, nonce and PKCE are set by Authlib)."""
    client = _provider_client(provider)
    return client.authorize_redirect(
        url_for("auth.external_callback", provider=provider, _external=True)
    )


@bp.get("/login/<provider>/callback")
def external_callback(provider: str):
    """Sign in with the identity the provider vouched for, if it belongs to an account."""
    client = _provider_client(provider)
    try:
        claims = client.authorize_access_token()["userinfo"]
        user = service.sign_in_external(
            provider=provider, claims=claims, invitation_token=session.pop("invitation", None)
        )
    except (OAuthError, JoseError, KeyError, TypeError):
        return _login_page(
            status=400, error=_("Signing in with the provider failed. Please try again.")
        )
    except service.IdentityRefused:
        return _login_page(
            status=403,
            error=_(
                "No account is linked to this sign-in. Open the invitation link from your coordinator first."
            ),
        )
    db.session.commit()
    return _start_session(user)


@bp.route("/login/verify", methods=["GET", "POST"])
@limiter.limit(
    lambda: current_app.config["LOGIN_LIMIT_PER_ACCOUNT"],
    key_func=_pending_key,
    methods=["POST"],
    deduct_when=_failed,
    scope="login-verify",
)
def verify():
    """Second step of signing in: a code from the authenticator app or a recovery code."""
    user, target = _pending_user()
    if user is None:
        flash(_("Sign in first."), "info")
        return redirect(url_for("auth.login"))
    form = CodeForm()
    if form.validate_on_submit():
        if two_factor.verify(user, form.code.data):
            db.session.commit()
            session.pop("pending_sign_in", None)
            _signed_in(user)
            return redirect(target)
        db.session.commit()
        form.code.errors = [_("The code is not correct, or was used already.")]
        return render_template("auth/verify.html", form=form), 401
    return render_template("auth/verify.html", form=form)


@bp.route("/settings/two-factor", methods=["GET", "POST"])
@login_required
def two_factor_settings():
    """Turn the second factor on (scan, confirm with a code), see recovery codes, or turn it off."""
    form = CodeForm()
    if current_user.has_second_factor:
        return render_template(
            "auth/two_factor.html",
            enabled=True,
            codes_left=two_factor.recovery_codes_left(current_user),
            required=two_factor.required_for(current_user),
            form=EmptyForm(),
        )
    secret = session.get("totp_enrolment") or two_factor.new_secret()
    session["totp_enrolment"] = secret
    if form.validate_on_submit():
        try:
            codes = two_factor.enrol(current_user, secret, form.code.data)
        except ValidationError as error:
            attach_error(form, error)
        else:
            db.session.commit()
            session.pop("totp_enrolment", None)
            login_user(current_user._get_current_object())  # this device stays signed in
            return render_template("auth/recovery_codes.html", codes=codes)
    return render_template(
        "auth/two_factor.html",
        enabled=False,
        form=form,
        secret=secret,
        qr_svg=Markup(two_factor.provisioning_svg(current_user, secret)),  # noqa: S704 (segno's own SVG)
        required=two_factor.required_for(current_user),
    )


@bp.post("/settings/two-factor/disable")
@login_required
def disable_two_factor():
    """Turn the second factor off, where the role does not require it."""
    if two_factor.required_for(current_user):
        abort(403)
    two_factor.disable(current_user)
    db.session.commit()
    flash(_("Two-step sign-in is off."), "info")
    return redirect(url_for("auth.two_factor_settings"))


# Pages a staff member without a required second factor may still open: the enrolment itself.
ENROLMENT_ENDPOINTS = {
    "auth.two_factor_settings",
    "auth.logout",
    "auth.login",
    "auth.verify",
    "static",
    "people.language",
    "health.healthz",
}


@bp.before_app_request
def end_stale_sessions():
    """Sign out a session idle too long or signed in too long ago (shared computers)."""
    if not current_user.is_authenticated or request.path.startswith("/static/"):
        return None
    now = time.time()
    started = session.setdefault("signed_in_at", now)
    seen = session.get("seen_at", now)
    config = current_app.config
    if (
        now - seen > config["SESSION_IDLE_MINUTES"] * 60
        or now - started > config["SESSION_ABSOLUTE_HOURS"] * 3600
    ):
        logout_user()
        session.clear()
        if request.path.startswith("/api/"):
            abort(401)
        flash(
            _("You were signed out after a while without activity. Please sign in again."), "info"
        )
        return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
    if now - seen > 60:  # write the cookie at most once a minute
        session["seen_at"] = now
    return None


@bp.before_app_request
def require_second_factor():
    """Send coordinators and admins who have no second factor yet to set one up first."""
    if (
        current_user.is_authenticated
        and not current_user.has_second_factor
        and two_factor.required_for(current_user)
        and request.endpoint not in ENROLMENT_ENDPOINTS
        and not request.path.startswith("/api/")
    ):
        flash(_("Your role needs two-step sign-in. Set it up to continue."), "info")
        return redirect(url_for("auth.two_factor_settings"))
    return None


@bp.post("/logout")
def logout():
    """Sign out (POST only, so a link on another site cannot sign anyone out)."""
    if current_user.is_authenticated:
        sessions_ended.send(current_user.id)
    logout_user()
    session.clear()
    flash(_("You have signed out."), "info")
    return redirect(url_for("auth.login"))


@bp.post("/logout/everywhere")
@login_required
def logout_everywhere():
    """End every sign-in session of the user on every device."""
    service.sign_out_everywhere(current_user)
    db.session.commit()
    sessions_ended.send(current_user.id)
    logout_user()
    session.clear()
    flash(_("You have signed out on every device."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/invite/<token>", methods=["GET", "POST"])
@limiter.limit("30 per 15 minutes", key_func=client_address, methods=["POST"])
def invitation(token: str):
    """Let an invited person set their password (and login name) through a single-use link."""
    lookup = service.find_invitation(token)
    if lookup.problem == "unknown":
        abort(404)
    if lookup.problem is not None:
        message = (
            _(
                "This invitation link has already been used. Sign in, or ask your coordinator for a new link."
            )
            if lookup.problem == "used"
            else _("This invitation link has expired. Ask your coordinator for a new link.")
        )
        return render_template("error.html", status=410, message=message), 410
    invitee = lookup.invitation.user
    if request.method == "POST" and request.form.get("provider"):
        # Link a sign-in provider instead of choosing a password: remembered until the callback.
        if request.form["provider"] not in oauth_providers(current_app):
            abort(400)
        session["invitation"] = token
        return redirect(url_for("auth.external_login", provider=request.form["provider"]))
    form = InvitationForm()
    form.login_name.description = _(
        "3 to 32 letters, digits, dots, hyphens or underscores. You sign in with it."
    )
    form.password.description = _(
        "At least %(n)d characters.", n=current_app.config["PASSWORD_MIN_LENGTH"]
    )
    if form.validate_on_submit():
        try:
            user = service.accept_invitation(
                lookup.invitation, password=form.password.data, login_name=form.login_name.data
            )
        except ValidationError as error:
            attach_error(form, error)
        else:
            db.session.commit()
            logout_user()
            session.clear()
            login_user(user)
            flash(_("Welcome to Manabi! Your password is set."), "success")
            return redirect(url_for("dashboard.index"))
    return render_template(
        "auth/invitation.html", form=form, invitee=invitee, providers=oauth_providers(current_app)
    )


@bp.route("/settings/password", methods=["GET", "POST"])
@login_required
def password():
    """Change one's own password."""
    form = PasswordForm()
    if form.validate_on_submit():
        try:
            service.change_password(
                current_user, form.current_password.data, form.new_password.data
            )
        except ValidationError as error:
            attach_error(form, error)
        else:
            db.session.commit()
            login_user(
                current_user._get_current_object()
            )  # keep this device signed in with the new session version
            flash(
                _("Your password has been changed. Other devices have been signed out."), "success"
            )
            return redirect(url_for("auth.password"))
    return render_template("auth/password.html", form=form, signout_form=EmptyForm())


@bp.route("/settings/tokens", methods=["GET", "POST"])
@login_required
def tokens():
    """List, create and revoke one's personal API tokens."""
    form = TokenForm()
    new_token = None
    if form.validate_on_submit():
        _token, new_token = service.create_token(current_user, form.name.data)
        db.session.commit()
        form = TokenForm(formdata=None)
    return render_template(
        "auth/tokens.html",
        form=form,
        new_token=new_token,
        tokens=service.list_tokens(current_user),
        revoke_form=EmptyForm(),
    )


@bp.post("/settings/tokens/<int:token_id>/revoke")
@login_required
def revoke_token(token_id: int):
    """Revoke one of one's own tokens."""
    if not service.revoke_token(current_user, token_id):
        abort(404)
    db.session.commit()
    flash(_("The token has been revoked."), "info")
    return redirect(url_for("auth.tokens"))


@bp.route("/people/<int:user_id>/identities", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def identities(user_id: int):
    """Show the sign-in providers linked to an account, and unlink one (admins)."""
    user = db.session.get(User, user_id)
    if user is None:
        abort(404)
    if request.method == "POST":
        identity_id = request.form.get("identity_id", "")
        if not identity_id.isdigit():
            abort(400)
        if not service.unlink_identity(user, int(identity_id)):
            abort(404)
        db.session.commit()
        flash(_("The sign-in has been unlinked."), "info")
        return redirect(url_for("auth.identities", user_id=user.id))
    return render_template(
        "auth/identities.html",
        person=user,
        identities=service.list_identities(user),
        form=EmptyForm(),
    )
