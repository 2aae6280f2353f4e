"""JSON API v1 for partners: referrals for liaisons, decisions for coordinators.

`GET, POST /partners/referrals` and `GET /partners/referrals/<id>`: the liaison's own
organisation's referrals (every referral for coordinators and admins), with only the
consented fields of an accepted student; `POST /partners/referrals/<id>/decision`:
coordinators and admins. Another organisation's referral is 404.
"""

from __future__ import annotations

from flask import Response, jsonify, request
from flask_login import current_user

from tutoring.api.views import bp, json_body
from tutoring.extensions import db
from tutoring.partners import access, labels, service
from tutoring.partners.models import GuardianConsentStatus
from tutoring.validation import choice, text


@bp.get("/partners/referrals")
def partners_referrals():
    """List the visible referrals; `format=csv` gives the export a liaison may download."""
    access.require_liaison_or_manager(current_user)
    if request.args.get("format") == "csv":
        body = "".join(service.export_lines(current_user, labels.export_words()))
        db.session.commit()
        return Response(body, mimetype="text/csv", headers={"Cache-Control": "no-store"})
    referrals = [
        service.referral_json(current_user, r) for r in service.list_referrals(current_user)
    ]
    db.session.commit()  # the audit entries of the reads
    return jsonify({"referrals": referrals})


@bp.post("/partners/referrals")
def partners_create_referral():
    """Submit a referral: {student_name, school_year?, situation, tried?, contact_route, guardian_consent}."""
    access.require_liaison(current_user)
    data = json_body()
    referral = service.submit_referral(
        current_user,
        service.ReferralInput(
            student_name=text(data, "student_name", max_length=100) or "",
            school_year=text(data, "school_year", max_length=30, required=False) or "",
            situation=text(data, "situation", max_length=2000) or "",
            tried=text(data, "tried", max_length=2000, required=False) or "",
            contact_route=text(data, "contact_route", max_length=500) or "",
            guardian_consent=choice(data, "guardian_consent", GuardianConsentStatus),
        ),
    )
    result = service.referral_json(current_user, referral)
    db.session.commit()
    return jsonify(result), 201


@bp.get("/partners/referrals/<int:referral_id>")
def partners_referral(referral_id: int):
    """Return one referral with its history and the consented fields."""
    referral = access.referral_or_404(current_user, referral_id)
    service.log_staff_read(current_user, referral)
    result = service.referral_json(current_user, referral)
    db.session.commit()
    return jsonify(result)


@bp.post("/partners/referrals/<int:referral_id>/decision")
def partners_decide(referral_id: int):
    """Decide: {action: accept|ask|decline, message} (message required to ask or decline)."""
    referral = access.referral_or_404(current_user, referral_id)
    access.require_manager(current_user)
    data = json_body()
    action = text(data, "action", max_length=10) or ""
    message = text(data, "message", max_length=2000, required=action != "accept") or ""
    service.decide(current_user, referral, action, message)
    result = service.referral_json(current_user, referral)
    db.session.commit()
    return jsonify(result)
