"""Reads for manifests: the current version a user may see, and what is on its way to an organisation."""

from __future__ import annotations

from django.utils.translation import gettext as _

from waste.errors import NotFound
from waste.models import Manifest, ManifestStatus, Membership
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


def manifest_pin_signers(*, user, manifest: Manifest) -> list[dict]:
    """The consignor's members who can sign with their PIN (set, not locked), by username: shown to
    the consignor and to the manifest's carriers, whose driver's phone captures the signature."""
    parties = {manifest.consignor_id, *manifest.carriers.values_list("organisation_id", flat=True)}
    if not user.is_superuser and not Membership.objects.filter(user=user, organisation_id__in=parties).exists():
        return []
    members = (
        Membership.objects.filter(organisation=manifest.consignor, pin_locked=False)
        .exclude(pin_hash="")
        .select_related("user")
        .order_by("user__username")
    )
    return [{"username": m.user.username, "name": m.user.get_full_name() or m.user.username} for m in members]
