"""Pages: week calendar, booking, session page with reschedule and cancel, venues, calendar feed."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required
from wtforms.fields.choices import SelectChoice

from tutoring.auth.forms import EmptyForm
from tutoring.auth.permissions import managers_only
from tutoring.extensions import db, limiter
from tutoring.forms_util import attach_error
from tutoring.i18n import program_zone, to_local
from tutoring.people.models import Role, User
from tutoring.people.service import list_users
from tutoring.scheduling import ical, service
from tutoring.scheduling.forms import CancelForm, RescheduleForm, SessionForm, VenueForm
from tutoring.scheduling.models import Kind, Mode, Status, TutoringSession, Venue
from tutoring.validation import ValidationError

bp = Blueprint("scheduling", __name__)


def _people_choices(role: Role, blank: str) -> list[SelectChoice]:
    people = [u for u in list_users(role) if u.active]
    return [SelectChoice("", blank)] + [SelectChoice(str(u.id), u.name) for u in people]


def _venue_choices() -> list[SelectChoice]:
    return [SelectChoice("", _("No venue"))] + [
        SelectChoice(str(v.id), v.name) for v in service.list_venues(active_only=True)
    ]


def _session_or_404(session_id: int) -> TutoringSession:
    session = service.visible_session(current_user, session_id)
    if session is None:
        abort(404)
    return session


def _week_start(value: str | None) -> date:
    """Return the Monday of the week holding the given date (today when absent or bad)."""
    try:
        day = date.fromisoformat(value) if value else None
    except ValueError:
        day = None
    day = day or datetime.now(program_zone()).date()
    return day - timedelta(days=day.weekday())


def _int_arg(name: str) -> int | None:
    value = request.args.get(name, "")
    return int(value) if value.isdigit() and len(value) < 10 else None


@bp.get("/schedule")
@login_required
def week():
    """Show a week of sessions: the program for coordinators, one's own for tutors and learners."""
    monday = _week_start(request.args.get("week"))
    zone = program_zone()
    start = datetime.combine(monday, time(), tzinfo=zone)
    filters = {
        "tutor_id": _int_arg("tutor_id"),
        "learner_id": _int_arg("learner_id"),
        "venue_id": _int_arg("venue_id"),
    }
    sessions = service.list_sessions(
        current_user, start=start, end=start + timedelta(days=7), **filters
    )
    days = [monday + timedelta(days=n) for n in range(7)]
    by_day = {day: [s for s in sessions if to_local(s.starts_at).date() == day] for day in days}
    managing = current_user.role in (Role.COORDINATOR, Role.ADMIN)
    return render_template(
        "scheduling/week.html",
        days=days,
        by_day=by_day,
        monday=monday,
        previous_week=(monday - timedelta(days=7)).isoformat(),
        next_week=(monday + timedelta(days=7)).isoformat(),
        today=datetime.now(zone).date(),
        filters=filters,
        active_filters={k: v for k, v in filters.items() if v},
        managing=managing,
        tutors=list_users(Role.TUTOR) if managing else [],
        learners=list_users(Role.LEARNER) if current_user.role.is_staff else [],
        venues=service.list_venues() if managing else [],
    )


def _booking_form() -> SessionForm:
    form = SessionForm()
    form.learner_id.choices = _people_choices(Role.LEARNER, _("Choose a learner"))
    form.tutor_id.choices = _people_choices(Role.TUTOR, _("Choose a tutor"))
    form.venue_id.choices = _venue_choices()
    return form


@bp.route("/sessions/new", methods=["GET", "POST"])
@managers_only
def create():
    """Book a session or a weekly series through the form."""
    form = _booking_form()
    if request.method == "GET":
        form.learner_id.data = _int_arg("learner_id")
        form.tutor_id.data = _int_arg("tutor_id")
    clashes = []
    if form.validate_on_submit():
        try:
            sessions = service.book_sessions(
                current_user,
                learner=db.session.get(User, form.learner_id.data)
                if form.learner_id.data
                else None,
                tutor=db.session.get(User, form.tutor_id.data) if form.tutor_id.data else None,
                starts_at=service.at_local(form.day.data, form.start_time.data),
                duration_minutes=int(form.duration_minutes.data),
                kind=Kind(form.kind.data),
                mode=Mode(form.mode.data),
                venue=db.session.get(Venue, form.venue_id.data) if form.venue_id.data else None,
                weekly_until=form.weekly_until.data,
            )
        except service.ConflictError as error:
            db.session.rollback()
            clashes = error.clashes
            attach_error(form, error)
        except ValidationError as error:
            db.session.rollback()
            attach_error(form, error)
        else:
            db.session.commit()
            if len(sessions) == 1:
                flash(_("The session has been booked."), "success")
            else:
                flash(_("%(n)d weekly sessions have been booked.", n=len(sessions)), "success")
            first = sessions[0]
            return redirect(
                url_for("scheduling.week", week=to_local(first.starts_at).date().isoformat())
            )
    return render_template("scheduling/new.html", form=form, clashes=clashes)


def _reschedule_form(session: TutoringSession) -> RescheduleForm:
    form = RescheduleForm(
        formdata=request.form if request.method == "POST" else None,
        day=to_local(session.starts_at).date(),
        start_time=to_local(session.starts_at).time(),
        duration_minutes=str(session.duration_minutes),
        tutor_id=session.tutor_id,
        mode=session.mode.value,
        venue_id=session.venue_id,
    )
    form.tutor_id.choices = _people_choices(Role.TUTOR, _("Choose a tutor"))
    form.venue_id.choices = _venue_choices()
    durations = [c.value for c in form.duration_minutes.choices]
    if str(session.duration_minutes) not in durations:  # keep an unusual length selectable
        form.duration_minutes.choices = [
            SelectChoice(
                str(session.duration_minutes), _("%(n)d minutes", n=session.duration_minutes)
            ),
            *form.duration_minutes.choices,
        ]
    return form


def _render_detail(session: TutoringSession, status: int = 200, **forms):
    """Render the session page; forms with errors are passed in to be shown again."""
    # Held and no-show sessions are part of the record: only a scheduled one can still move.
    may_change = service.can_change(current_user, session)
    can_change = may_change and session.status is Status.SCHEDULED
    context = {
        "session": session,
        "history": service.history(session) if current_user.role.is_staff else [],
        "can_change": can_change,
        "settled": may_change and session.status in (Status.HELD, Status.NO_SHOW),
        "reschedule_form": _reschedule_form(session) if can_change else None,
        "cancel_form": CancelForm(formdata=None) if can_change else None,
        "room_open": service.room_is_open(session),
        "window": service.join_window(session),
        "clashes": [],
    }
    context.update(forms)
    return render_template("scheduling/detail.html", **context), status


@bp.get("/sessions/<int:session_id>")
@login_required
def detail(session_id: int):
    """Show a session with its history, and the change forms for those who may change it."""
    return _render_detail(_session_or_404(session_id))


def _changeable_or_error(session_id: int) -> TutoringSession:
    session = _session_or_404(session_id)
    if not service.can_change(current_user, session):
        abort(403)
    return session


@bp.post("/sessions/<int:session_id>/reschedule")
@login_required
def reschedule(session_id: int):
    """Move or change a session (or it and the following ones)."""
    session = _changeable_or_error(session_id)
    form = _reschedule_form(session)
    clashes = []
    if form.validate_on_submit():
        tutor = db.session.get(User, form.tutor_id.data) if form.tutor_id.data else None
        try:
            service.reschedule(
                current_user,
                session,
                starts_at=service.at_local(form.day.data, form.start_time.data),
                duration_minutes=int(form.duration_minutes.data),
                tutor=tutor if tutor and tutor.id != session.tutor_id else None,
                mode=Mode(form.mode.data),
                venue=db.session.get(Venue, form.venue_id.data) if form.venue_id.data else None,
                scope=form.scope.data,
            )
        except ValidationError as error:
            db.session.rollback()
            clashes = getattr(error, "clashes", [])
            if not clashes:
                attach_error(form, error)
        else:
            db.session.commit()
            flash(_("The session has been changed."), "success")
            return redirect(url_for("scheduling.detail", session_id=session_id))
    session = _session_or_404(session_id)
    return _render_detail(session, 409 if clashes else 400, reschedule_form=form, clashes=clashes)


@bp.post("/sessions/<int:session_id>/cancel")
@login_required
def cancel(session_id: int):
    """Cancel a session (or it and the following ones) with a reason."""
    session = _changeable_or_error(session_id)
    form = CancelForm()
    if form.validate_on_submit():
        try:
            cancelled = service.cancel(
                current_user, session, reason=form.reason.data, scope=form.scope.data
            )
        except ValidationError as error:
            db.session.rollback()
            attach_error(form, error)
        else:
            db.session.commit()
            flash(_("%(n)d session(s) cancelled.", n=len(cancelled)), "info")
            return redirect(url_for("scheduling.detail", session_id=session_id))
    return _render_detail(_session_or_404(session_id), 400, cancel_form=form)


# Venues


@bp.get("/venues")
@managers_only
def venues():
    """List venues."""
    return render_template("scheduling/venues.html", venues=service.list_venues())


@bp.route("/venues/new", methods=["GET", "POST"], defaults={"venue_id": None})
@bp.route("/venues/<int:venue_id>/edit", methods=["GET", "POST"])
@managers_only
def edit_venue(venue_id: int | None):
    """Create or edit a venue."""
    venue = db.session.get(Venue, venue_id) if venue_id else None
    if venue_id and venue is None:
        abort(404)
    form = VenueForm(obj=venue)
    if form.validate_on_submit():
        try:
            service.save_venue(
                venue,
                name=form.name.data,
                address=form.address.data,
                online=form.online.data,
                active=form.active.data,
            )
        except ValidationError as error:
            db.session.rollback()
            attach_error(form, error)
        else:
            db.session.commit()
            flash(_("The venue has been saved."), "success")
            return redirect(url_for("scheduling.venues"))
    return render_template("scheduling/venue_form.html", form=form, venue=venue)


# Tutor assignment


@bp.route("/learners/<int:learner_id>/tutors", methods=["GET", "POST"])
@managers_only
def tutors(learner_id: int):
    """Choose the tutors assigned to a learner."""
    learner = db.session.get(User, learner_id)
    if learner is None or learner.role is not Role.LEARNER:
        abort(404)
    all_tutors = [t for t in list_users(Role.TUTOR) if t.active]
    if request.method == "POST":
        wanted = {int(v) for v in request.form.getlist("tutor_ids") if v.isdigit()}
        chosen = [t for t in all_tutors if t.id in wanted]
        service.set_assigned_tutors(current_user, learner, chosen)
        db.session.commit()
        flash(_("The assigned tutors of %(name)s have been saved.", name=learner.name), "success")
        return redirect(url_for("scheduling.tutors", learner_id=learner.id))
    assigned = {t.id for t in service.assigned_tutors(learner)}
    return render_template(
        "scheduling/tutors.html",
        learner=learner,
        tutors=all_tutors,
        assigned=assigned,
        form=EmptyForm(),
    )


# Calendar feed


@bp.get("/settings/calendar")
@login_required
def calendar_settings():
    """Show the user's secret calendar address to copy into a calendar app."""
    feed = service.calendar_feed(current_user)
    db.session.commit()
    return render_template(
        "scheduling/calendar_settings.html",
        feed_url=url_for("scheduling.feed", token=feed.token, _external=True),
        form=EmptyForm(),
    )


@bp.post("/settings/calendar/renew")
@login_required
def renew_calendar():
    """Replace the calendar address; the old one stops working."""
    service.renew_calendar_feed(current_user)
    db.session.commit()
    flash(_("Your calendar has a new address. Update it in your calendar app."), "info")
    return redirect(url_for("scheduling.calendar_settings"))


@bp.get("/calendar/<token>.ics")
@limiter.limit("60 per minute")
def feed(token: str):
    """Serve a user's sessions as iCalendar, to the holder of the secret address."""
    user = service.user_for_feed(token)
    if user is None:
        abort(404)
    # Calendar apps send no cookie: the feed speaks the owner's language.
    with force_locale(user.locale or current_app.config["BABEL_DEFAULT_LOCALE"]):
        body = ical.calendar(user, service.feed_sessions(user), request.host)
    response = Response(body, mimetype="text/calendar")
    response.headers["Content-Disposition"] = 'inline; filename="manabi.ics"'
    response.headers["Cache-Control"] = "private, max-age=300"
    return response
