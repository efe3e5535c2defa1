"""Which organisation the user acts for, and the one decorator that gates a view by its role.

A user may belong to several organisations; the one they act for is kept in the session
(``acting_org_id``) and defaults to their first membership. Every web view reads it through
``acting_organisation(request)`` (or ``request.acting_org``, set lazily by ``ActingOrgMiddleware``).
"""

from __future__ import annotations

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.utils.functional import SimpleLazyObject

from waste.models import Membership, Role

SESSION_KEY = "acting_org_id"

# Where each role works after login, in the order a user with several roles lands.
LANDING = [
    (Role.GENERATOR, "web:enterprise-batches"),
    (Role.RECYCLER, "web:recycler-home"),
    (Role.SITE_OPERATOR, "web:site-incoming"),
    (Role.HAULER, "web:dispatch-home"),
    (Role.REGULATOR, "web:regulator-dashboard"),
]


def memberships(request) -> list[Membership]:
    cached = getattr(request, "_web_memberships", None)
    if cached is None:
        if not request.user.is_authenticated:
            cached = []
        else:
            cached = list(
                Membership.objects.filter(user=request.user)
                .select_related("organisation")
                .order_by("organisation__name")
            )
        request._web_memberships = cached
    return cached


def acting_membership(request) -> Membership | None:
    """The membership the user acts through: the session's choice if still valid, else the first."""
    rows = memberships(request)
    chosen = request.session.get(SESSION_KEY) if hasattr(request, "session") else None
    for membership in rows:
        if membership.organisation_id == chosen:
            return membership
    return rows[0] if rows else None


def acting_organisation(request):
    membership = acting_membership(request)
    return membership.organisation if membership else None


def acting_organisation_set(request, *, organisation_id: int) -> bool:
    """Act for ``organisation_id`` from now on; False when the user is not a member of it."""
    if not any(m.organisation_id == organisation_id for m in memberships(request)):
        return False
    request.session[SESSION_KEY] = organisation_id
    return True


def landing_url_name(organisation) -> str:
    for role, url_name in LANDING:
        if organisation is not None and organisation.has_role(role):
            return url_name
    return "web:no-organisation"


def role_required(*roles: str):
    """Login required, and the acting organisation must hold one of ``roles`` (else a framed 403)."""

    def decorator(view):
        @login_required
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            org = acting_organisation(request)
            if org is None or not any(org.has_role(role) for role in roles):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        wrapper.roles = roles
        return wrapper

    return decorator


class ActingOrgMiddleware:
    """Sets ``request.acting_org`` (lazy: no query unless something reads it)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.acting_org = SimpleLazyObject(lambda: acting_organisation(request))
        return self.get_response(request)
