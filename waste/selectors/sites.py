"""Reads for sites."""

from __future__ import annotations

from waste.models import Site
from waste.models.sites import RECEIVING_KINDS
from waste.scoping import visible_to


def site_list(*, user, organisation=None):
    """Active sites the user may see, optionally of one organisation."""
    queryset = visible_to(Site.objects.filter(active=True), user)
    if organisation is not None:
        queryset = queryset.filter(organisation=organisation)
    return queryset.select_related("organisation").order_by("name", "id")


def site_receiving_list():
    """Every active site that receives waste: the directory a consignor picks a destination from.
    Like haulers, receiving sites are public parties (the manifest API accepts any of them)."""
    return Site.objects.filter(active=True, kind__in=RECEIVING_KINDS).select_related("organisation").order_by("name")
