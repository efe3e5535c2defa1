from __future__ import annotations

from waste.models import Membership, Organisation
from waste.scoping import visible_to


def user_memberships(*, user):
    return Membership.objects.filter(user=user).select_related("organisation").order_by("organisation__name")


def organisation_list(*, user):
    return visible_to(Organisation.objects.all(), user)
