"""Reads for manifests: the current version a user may see, and what is on its way to an organisation."""

from __future__ import annotations

from django.utils.translation import gettext as _

from waste.errors import NotFound
from waste.models import Manifest, ManifestStatus
from waste.scoping import visible_to

# Signed by the consignor and not yet signed by the receiver: the receiver's work.
OPEN_STATUSES = (ManifestStatus.SEALED, ManifestStatus.IN_TRANSIT)
CLOSED_STATUSES = (ManifestStatus.RECEIVED, ManifestStatus.PARTIALLY_RECEIVED, ManifestStatus.REFUSED)


def manifest_list(*, user):
    """Current versions (corrections supersede) of the manifests the user may see."""
    return visible_to(Manifest.objects.filter(correction__isnull=True), user).select_related(
        "consignor", "from_site", "receiver", "to_site"
    )


def manifest_visible_get(*, user, number: str) -> Manifest:
    """The current version of manifest ``number`` if the user may see it; else as unknown as a missing one."""
    manifest = manifest_list(user=user).filter(number=number).order_by("-version").first()
    if manifest is None:
        raise NotFound.field("number", _("No manifest with this number."), code="unknown_manifest")
    return manifest


def manifest_incoming(*, user, organisation, closed: bool = False):
    """Manifests addressed to ``organisation``: on their way (signed by the consignor, not yet received),
    soonest due first; or, with ``closed``, those it has signed for, latest first."""
    queryset = manifest_list(user=user).filter(receiver=organisation)
    if closed:
        return queryset.filter(status__in=CLOSED_STATUSES).order_by("-receiver_signed_at", "-id")
    return queryset.filter(status__in=OPEN_STATUSES).order_by("receipt_due", "consignor_signed_at", "id")


def manifest_current(number: str, *, lock: bool = False) -> Manifest:
    """The current version of the manifest with this number (optionally locked)."""
    # of=("self",): the reverse one-to-one (correction) is an outer join, which PostgreSQL cannot lock.
    queryset = Manifest.objects.select_for_update(of=("self",)) if lock else Manifest.objects
    manifest = queryset.filter(number=number, correction__isnull=True).order_by("-version").first()
    if manifest is None:
        raise NotFound.field("number", _("No manifest with this number."), code="unknown_manifest")
    return manifest
