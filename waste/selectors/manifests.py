"""Reads for manifests."""

from __future__ import annotations

from waste.errors import NotFound
from waste.models import Manifest
from waste.scoping import visible_to


def manifest_list(*, user):
    """Current versions of the manifests the user may see."""
    return visible_to(Manifest.objects.filter(correction__isnull=True), user)


def manifest_visible_get(*, user, number: str) -> Manifest:
    """The current version of manifest ``number`` if the user may see it, else NotFound."""
    queryset = visible_to(Manifest.objects.filter(number=number), user).order_by("-version")
    manifest = queryset.filter(correction__isnull=True).first()
    if manifest is None:
        raise NotFound.field("number", "No manifest with this number.", code="unknown_manifest")
    return manifest
