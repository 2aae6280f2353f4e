"""Pages of partners: organisations, liaisons, referrals, outreach, consent, the council view."""

from __future__ import annotations

from datetime import date

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required

from tutoring.auth.forms import EmptyForm
from tutoring.extensions import db
from tutoring.forms_util import attach_error
from tutoring.partners import access, forms, labels, service
from tutoring.partners.models import (
    GuardianConsentStatus,
    Organisation,
    OrganisationKind,
    OutreachWay,
    Referral,
    ReferralStatus,
    SharingConsent,
)
from tutoring.records import access as records_access
from tutoring.validation import ValidationError

bp = Blueprint("partners", __name__, url_prefix="/partners")


@bp.before_app_request
def confine_liaisons():
    """A signed-in liaison sees the partners pages and their own settings, nothing else."""
    access.confine_liaison()


@bp.app_context_processor
def _labels():
    """Give templates the partners' words (the learner's timeline shows outreach too)."""
    return {"partner_labels": labels}


def _run(form, action, message: str, target: str):
    """Run a service call: commit and redirect, or put the error on the form and roll back."""
    try:
        action()
    except ValidationError as error:
        db.session.rollback()
        attach_error(form, error)
        return None
    db.session.commit()
    flash(message, "success")
    return redirect(target)


def _organisation(organisation_id: int) -> Organisation:
    access.require_manager(current_user)
    organisation = db.session.get(Organisation, organisation_id)
    if organisation is None:
        abort(404)
    return organisation


@bp.get("")
@login_required
def index():
    """List the referrals: a liaison's own organisation's, or every one for coordinators."""
    access.require_liaison_or_manager(current_user)
    status = request.args.get("status")
    status = ReferralStatus(status) if status in {s.value for s in ReferralStatus} else None
    referrals = service.list_referrals(current_user, status)
    organisation = access.organisation_of(current_user)
    shared = {}
    if organisation is not None:
        shared = {r.id: service.shared_view(current_user, r) for r in referrals}
    page = render_template(
        "partners/index.html",
        referrals=referrals,
        shared=shared,
        organisation=organisation,
        status=status,
        manager=access.is_manager(current_user),
    )
    db.session.commit()  # the audit entries of the liaison's reads, after rendering
    return page


@bp.route("/organisations", methods=["GET", "POST"])
@login_required
def organisations():
    """List partner organisations and add one (coordinators and admins)."""
    access.require_manager(current_user)
    form = forms.OrganisationForm()
    if form.validate_on_submit():
        done = _run(
            form,
            lambda: service.save_organisation(
                current_user, None, name=form.name.data, kind=OrganisationKind(form.kind.data)
            ),
            _("The organisation has been added."),
            url_for("partners.organisations"),
        )
        if done:
            return done
    return render_template(
        "partners/organisations.html",
        organisations=service.list_organisations(),
        form=form,
    ), (400 if form.errors or form.form_errors else 200)


@bp.route("/organisations/<int:organisation_id>", methods=["GET", "POST"])
@login_required
def organisation(organisation_id: int):
    """Show an organisation with its liaisons; rename it or stop it (coordinators and admins)."""
    item = _organisation(organisation_id)
    form = forms.OrganisationForm(obj=None if request.method == "POST" else item)
    if request.method == "GET":
        form.kind.data = item.kind.value
    if form.validate_on_submit():
        done = _run(
            form,
            lambda: service.save_organisation(
                current_user,
                item,
                name=form.name.data,
                kind=OrganisationKind(form.kind.data),
                active=request.form.get("active") == "y",
            ),
            _("The organisation has been saved."),
            url_for("partners.organisation", organisation_id=item.id),
        )
        if done:
            return done
    return _organisation_page(item, form=form)


def _organisation_page(item: Organisation, **forms_given):
    page_forms = {
        "form": forms.OrganisationForm(obj=item, formdata=None),
        "liaison_form": forms.LiaisonForm(prefix="liaison", formdata=None),
    }
    if "form" not in forms_given:
        page_forms["form"].kind.data = item.kind.value
    page_forms.update(forms_given)
    failed = any(f.errors or f.form_errors for f in forms_given.values())
    return render_template(
        "partners/organisation.html",
        organisation=item,
        liaisons=service.liaisons_of(item),
        **page_forms,
    ), (400 if failed else 200)


@bp.post("/organisations/<int:organisation_id>/liaisons")
@login_required
def create_liaison(organisation_id: int):
    """Create a liaison account of the organisation (coordinators and admins)."""
    item = _organisation(organisation_id)
    form = forms.LiaisonForm(prefix="liaison")
    if form.validate_on_submit():
        done = _run(
            form,
            lambda: service.create_liaison(
                current_user,
                item,
                name=form.name.data,
                email=form.email.data,
                password=form.password.data,
            ),
            _("The liaison account has been created."),
            url_for("partners.organisation", organisation_id=item.id),
        )
        if done:
            if not form.password.data:
                return redirect(url_for("people.index"))
            return done
    return _organisation_page(item, liaison_form=form)


@bp.route("/referrals/new", methods=["GET", "POST"])
@login_required
def new_referral():
    """Refer a student at risk to the program (liaisons)."""
    access.require_liaison(current_user)
    form = forms.ReferralForm()
    if form.validate_on_submit():
        data = service.ReferralInput(
            student_name=form.student_name.data,
            school_year=form.school_year.data,
            situation=form.situation.data,
            tried=form.tried.data,
            contact_route=form.contact_route.data,
            guardian_consent=GuardianConsentStatus(form.guardian_consent.data),
        )
        try:
            referral = service.submit_referral(current_user, data)
        except ValidationError as error:
            db.session.rollback()
            attach_error(form, error)
        else:
            db.session.commit()
            flash(_("The referral has been sent. The program will answer here."), "success")
            return redirect(url_for("partners.referral", referral_id=referral.id))
    return render_template("partners/new_referral.html", form=form), (
        400 if form.errors or form.form_errors else 200
    )


def _referral_page(referral: Referral, status: int = 200, **forms_given):
    manager = access.is_manager(current_user)
    learner = referral.learner
    context = {
        "referral": referral,
        "manager": manager,
        "history": service.history(referral),
        "shared": service.shared_view(current_user, referral),
        "answer_form": forms.AnswerForm(formdata=None),
    }
    if manager:
        context.update(
            decision_form=forms.DecisionForm(formdata=None),
            outreach_form=forms.OutreachForm(formdata=None, contacted_on=service.today()),
            plan_form=forms.PlanForm(formdata=None),
            sharing_form=forms.SharingForm(formdata=None),
            withdraw_form=EmptyForm(),
            outreach=service.outreach_of(learner) if learner else [],
            plan=service.plan_of(referral),
            sharing=service.sharing_history(referral),
            referred_out=service.referrals_out(learner) if learner else [],
        )
    context.update(forms_given)
    service.log_staff_read(current_user, referral)
    page = render_template("partners/referral.html", **context)
    db.session.commit()  # the audit entries of the reads
    return page, status


@bp.get("/referrals/<int:referral_id>")
@login_required
def referral(referral_id: int):
    """Show a referral, its history and, with consent, how the student is doing."""
    return _referral_page(access.referral_or_404(current_user, referral_id))


@bp.post("/referrals/<int:referral_id>/answer")
@login_required
def answer(referral_id: int):
    """Give the program the information it asked for (the liaison)."""
    item = access.referral_or_404(current_user, referral_id)
    access.require_liaison(current_user)
    form = forms.AnswerForm()
    if form.validate_on_submit():
        done = _run(
            form,
            lambda: service.add_information(current_user, item, form.message.data),
            _("Your answer has been sent."),
            url_for("partners.referral", referral_id=item.id),
        )
        if done:
            return done
    return _referral_page(item, 400, answer_form=form)


def _manager_action(referral_id: int, form_class, form_name: str, anchor: str, message, action):
    """Handle a coordinator's form on a referral's page: run it, or show the page with errors.

    `action(item, form)` calls the service; `form_name` is the page's name for the form, so a
    refused form is shown again where it was, with its errors.
    """
    item = access.referral_or_404(current_user, referral_id)
    access.require_manager(current_user)
    form = form_class()
    if form.validate_on_submit():
        target = url_for("partners.referral", referral_id=item.id) + anchor
        done = _run(form, lambda: action(item, form), message, target)
        if done:
            return done
    return _referral_page(item, 400, **{form_name: form})


@bp.post("/referrals/<int:referral_id>/decision")
@login_required
def decision(referral_id: int):
    """Accept, ask for more or decline (coordinators and admins)."""
    return _manager_action(
        referral_id,
        forms.DecisionForm,
        "decision_form",
        "",
        _("The decision has been recorded."),
        lambda item, form: service.decide(current_user, item, form.action.data, form.message.data),
    )


@bp.post("/referrals/<int:referral_id>/outreach")
@login_required
def outreach(referral_id: int):
    """Record an outreach contact with the referred student (coordinators and admins)."""
    return _manager_action(
        referral_id,
        forms.OutreachForm,
        "outreach_form",
        "#outreach",
        _("The contact has been recorded."),
        lambda item, form: service.record_outreach(
            current_user,
            item,
            contacted_on=form.contacted_on.data,
            way=OutreachWay(form.way.data),
            who=form.who.data,
            outcome=form.outcome.data,
        ),
    )


@bp.post("/referrals/<int:referral_id>/plan")
@login_required
def plan(referral_id: int):
    """Record the council meeting's agreed support plan (coordinators and admins)."""
    return _manager_action(
        referral_id,
        forms.PlanForm,
        "plan_form",
        "#plan",
        _("The support plan has been recorded."),
        lambda item, form: service.save_plan(
            current_user,
            item,
            held_on=form.held_on.data,
            participants=form.participants.data,
            situation=form.situation.data,
            decisions=form.decisions.data,
            next_review_on=form.next_review_on.data,
        ),
    )


@bp.post("/referrals/<int:referral_id>/sharing")
@login_required
def sharing(referral_id: int):
    """Record what the learner (and guardian) agreed to share (coordinators and admins)."""
    return _manager_action(
        referral_id,
        forms.SharingForm,
        "sharing_form",
        "#sharing",
        _("The consent to share has been recorded."),
        lambda item, form: service.record_sharing(
            current_user,
            item,
            fields=form.chosen(),
            learner_agreed_on=form.learner_agreed_on.data,
            guardian_name=form.guardian_name.data,
            guardian_agreed_on=form.guardian_agreed_on.data,
        ),
    )


@bp.post("/sharing/<int:consent_id>/withdraw")
@login_required
def withdraw_sharing(consent_id: int):
    """Withdraw a consent to share: the liaison's view closes at once."""
    access.require_manager(current_user)
    consent = db.session.get(SharingConsent, consent_id)
    if consent is None:
        abort(404)
    form = EmptyForm()
    if form.validate_on_submit():
        service.withdraw_sharing(current_user, consent)
        db.session.commit()
        flash(
            _("The consent has been withdrawn. The school or agency sees nothing more."), "success"
        )
    referral = db.session.scalar(
        access.visible_referrals(current_user).where(
            Referral.learner_id == consent.learner_id,
            Referral.organisation_id == consent.organisation_id,
        )
    )
    if referral is None:
        return redirect(url_for("partners.index"))
    return redirect(url_for("partners.referral", referral_id=referral.id) + "#sharing")


@bp.route("/learners/<int:learner_id>/referrals-out", methods=["GET", "POST"])
@login_required
def referrals_out(learner_id: int):
    """Record a referral of the learner to another agency (coordinators and admins)."""
    access.require_manager(current_user)
    learner = records_access.learner_or_404(current_user, learner_id)
    form = forms.ReferralOutForm()
    if request.method == "GET":
        form.referred_on.data = service.today()
    if form.validate_on_submit():
        done = _run(
            form,
            lambda: service.record_referral_out(
                current_user,
                learner,
                agency=form.agency.data,
                referred_on=form.referred_on.data,
                reason=form.reason.data,
            ),
            _("The referral to another agency has been recorded."),
            url_for("partners.referrals_out", learner_id=learner.id),
        )
        if done:
            return done
    return render_template(
        "partners/referrals_out.html",
        learner=learner,
        form=form,
        items=service.referrals_out(learner),
    ), (400 if form.errors or form.form_errors else 200)


@bp.get("/council")
@login_required
def council():
    """Show every referred student of the partners with what changed since the last meeting."""
    access.require_manager(current_user)
    try:
        since = date.fromisoformat(request.args.get("since", ""))
    except ValueError:
        since = service.default_council_since()
    kind = request.args.get("kind", OrganisationKind.SCHOOL.value)
    kinds = (
        tuple(OrganisationKind)
        if kind == "all"
        else (OrganisationKind(kind),)
        if kind in {k.value for k in OrganisationKind}
        else (OrganisationKind.SCHOOL,)
    )
    rows = service.council(current_user, since, kinds)
    page = render_template(
        "partners/council.html", rows=rows, since=since, kind=kind, today=service.today()
    )
    db.session.commit()  # the audit entry, after rendering: a commit expires the rows
    return page


@bp.get("/export.csv")
@login_required
def export():
    """Download the referrals as CSV (UTF-8 with BOM): a liaison gets the consented fields only."""
    access.require_liaison_or_manager(current_user)
    actor = current_user._get_current_object()
    words = labels.export_words()

    body = "".join(service.export_lines(actor, words))
    db.session.commit()  # the liaison's reads, written to the audit log
    return Response(
        body,
        mimetype="text/csv",
        headers={
            "Content-Disposition": "attachment; filename=referrals.csv",
            "Cache-Control": "no-store",
        },
    )
