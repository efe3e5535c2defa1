"""The one place that limits what a user may see.

Each scoped model declares ``SCOPE = {"orgs": (...), "geo": (...), "districts": (...)}``:
lookups that lead to an organisation id, to a point, and to a GB/T 2260 district code (and,
optionally, ``users``: lookups to the user who owns a row, e.g. an export they requested). A user sees
a row when one of the ``orgs`` paths reaches an organisation they belong to, or, for members of a
regulator, when one of the ``geo`` paths lies inside one of its jurisdictions or one of the
``districts`` paths names a district inside one (120000 covers 1201xx, 120100 covers 120101).
"""

from __future__ import annotations

from django.db.models import Q, QuerySet

from waste.models import Jurisdiction, Membership


def user_organisation_ids(user) -> list[int]:
    if not getattr(user, "is_authenticated", False):
        return []
    cached = getattr(user, "_zw_org_ids", None)
    if cached is None:
        cached = list(Membership.objects.filter(user=user).values_list("organisation_id", flat=True))
        user._zw_org_ids = cached
    return cached


def user_jurisdictions(user) -> list[tuple]:
    """(area, district code prefix) of every jurisdiction of the regulators the user belongs to."""
    cached = getattr(user, "_zw_jurisdictions", None)
    if cached is None:
        rows = Jurisdiction.objects.filter(
            organisation__is_regulator=True, organisation__memberships__user=user
        ).values_list("area", "district_code")
        cached = [(area, district_prefix(code)) for area, code in rows]
        user._zw_jurisdictions = cached
    return cached


def district_prefix(code: str) -> str:
    """120000 -> 12, 120100 -> 1201, 120101 -> 120101."""
    while code.endswith("00") and len(code) > 2:
        code = code[:-2]
    return code


def scope_q(model, user) -> Q:
    scope = model.SCOPE
    org_ids = user_organisation_ids(user)
    q = Q(pk__in=[])
    for path in scope["orgs"]:
        q |= Q(**{f"{path}__in": org_ids})
    for path in scope.get("users", ()):
        q |= Q(**{path: user.pk})
    for area, prefix in user_jurisdictions(user):
        for path in scope.get("geo", ()):
            q |= Q(**{f"{path}__intersects": area})
        for path in scope.get("districts", ()):
            q |= Q(**{f"{path}__startswith": prefix})
    return q


def visible_to(queryset: QuerySet, user) -> QuerySet:
    """Rows of ``queryset`` that ``user`` may see. Superusers see everything."""
    if not getattr(user, "is_authenticated", False):
        return queryset.none()
    if user.is_superuser:
        return queryset
    model = queryset.model
    # A subquery keeps joins through to-many paths from duplicating rows.
    return queryset.filter(pk__in=model._default_manager.filter(scope_q(model, user)).values("pk"))
