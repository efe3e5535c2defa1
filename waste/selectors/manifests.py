"""Reads for manifests."""

from __future__ import annotations

from django.utils.translation import gettext as _

from waste.errors import NotFound
from waste.models import Manifest


def manifest_current(number: str, *, lock: bool = False) -> Manifest:
    """The current version of the manifest with this number (optionally locked)."""
    # of=("self",): the reverse one-to-one (correction) is an outer join, which PostgreSQL cannot lock.
    queryset = Manifest.objects.select_for_update(of=("self",)) if lock else Manifest.objects
    manifest = queryset.filter(number=number, correction__isnull=True).order_by("-version").first()
    if manifest is None:
        raise NotFound.field("number", _("No manifest with this number."), code="unknown_manifest")
    return manifest
