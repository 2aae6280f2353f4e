"""Who may see and do what with partners and referrals: the one place that says.

- A liaison (role `liaison`) sees nothing of the rest of the app: `confine_liaison` answers
  403 for every endpoint outside LIAISON_ENDPOINTS, on pages and on the API (token or
  session), and the whiteboard socket refuses them. A new route is closed to liaisons until
  its endpoint is added here.
- A liaison sees and submits the referrals of their own organisation only; another
  organisation's referral does not exist for them (404). Of an accepted student they see
  only the fields the learner (and a minor's guardian) consented to share, while the consent
  is not withdrawn; never notes, outreach or case reviews.
- Coordinators and admins manage organisations and liaison accounts, decide on referrals,
  record outreach, support plans, sharing consent and referrals out, and see the council view.
- Tutors and learners get 403 on every partners page.
"""

from __future__ import annotations

from flask import abort, request
from flask_login import current_user
from sqlalchemy import Select, select

from tutoring.extensions import db
from tutoring.partners.models import Liaison, Organisation, Referral
from tutoring.people.models import Role, User
from tutoring.records.access import AccessDenied, NotVisible

MANAGERS = (Role.COORDINATOR, Role.ADMIN)

# Endpoints a signed-in liaison may use: public pages, their own account, the partners pages.
LIAISON_ENDPOINTS = frozenset(
    {
        # Public: what anyone may open (docs/permissions.md rows whose anonymous cell is ok).
        "static",
        "health.healthz",
        "auth.login",
        "auth.invitation",
        "people.language",
        "scheduling.feed",
        "notify.manifest",
        "notify.service_worker",
        "notify.offline",
        # Their own account.
        "auth.verify",
        "auth.logout",
        "auth.logout_everywhere",
        "auth.password",
        "auth.two_factor_settings",
        "auth.disable_two_factor",
        "people.settings",
        "dashboard.index",  # sends a liaison on to the partners page
        "api.me",
    }
)


def is_liaison(user: User) -> bool:
    return user.role is Role.LIAISON


def is_manager(user: User) -> bool:
    return user.role in MANAGERS


def endpoint_open_to_liaison(endpoint: str | None) -> bool:
    """Tell whether a liaison may call this endpoint at all."""
    if endpoint is None:
        return True  # 404 for an unknown address, as for anyone
    return (
        endpoint in LIAISON_ENDPOINTS
        or endpoint.startswith("partners.")
        or endpoint.startswith("api.partners_")
    )


def confine_liaison(user: User | None = None) -> None:
    """Answer 403 when a signed-in liaison asks for anything outside their view."""
    user = user if user is not None else current_user
    if not getattr(user, "is_authenticated", False):
        return
    if is_liaison(user) and not endpoint_open_to_liaison(request.endpoint):
        abort(403)


def may_use_whiteboard(user: User) -> bool:
    """Tell whether the user may open a whiteboard socket at all (liaisons may not)."""
    return not is_liaison(user)


def organisation_of(user: User) -> Organisation | None:
    """Return the liaison's organisation (None for anyone else)."""
    if not is_liaison(user):
        return None
    link = db.session.get(Liaison, user.id)
    return link.organisation if link is not None else None


def require_manager(user: User) -> None:
    if not is_manager(user):
        raise AccessDenied


def require_liaison_or_manager(user: User) -> None:
    if not (is_manager(user) or is_liaison(user)):
        raise AccessDenied


def require_liaison(user: User) -> Organisation:
    """Return the liaison's organisation; 403 for anyone else or a liaison without one."""
    organisation = organisation_of(user)
    if organisation is None or not organisation.active:
        raise AccessDenied
    return organisation


def visible_referrals(user: User) -> Select:
    """Return a query of the referrals the user may see."""
    query = select(Referral)
    if is_manager(user):
        return query
    organisation = organisation_of(user)
    if organisation is None:
        return query.where(Referral.id == -1)
    return query.where(Referral.organisation_id == organisation.id)


def referral_or_404(user: User, referral_id: int) -> Referral:
    """Return the referral if the user may see it, else 404 (403 for roles without any)."""
    require_liaison_or_manager(user)
    referral = db.session.scalar(visible_referrals(user).where(Referral.id == referral_id))
    if referral is None:
        raise NotVisible
    return referral
