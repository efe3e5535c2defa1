"""Pickup requests and the destination each one needs."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.db import transaction
from django.utils.translation import gettext as _

from logistics.models import Pickup, PickupStatus, WasteClass
from logistics.routing import haversine_m
from waste.errors import AppError
from waste.models import Batch, BatchStatus, Organisation, Permit, Site, SiteKind
from waste.permissions import membership_require
from waste.scoping import visible_to

AWAITING_PICKUP = (BatchStatus.GENERATED, BatchStatus.READY, BatchStatus.RECEIVED)
# Where each class may be unloaded (hazardous additionally needs a permit in force for the code).
DESTINATION_KINDS = {
    WasteClass.HAZARDOUS: (SiteKind.TRANSFER_STATION, SiteKind.STORAGE, SiteKind.TREATMENT, SiteKind.DISPOSAL),
    WasteClass.RECYCLABLE: (SiteKind.TREATMENT,),
    WasteClass.GENERAL: (SiteKind.TREATMENT, SiteKind.DISPOSAL),
}


def _lon_lat(site: Site) -> tuple[float, float]:
    return site.location.x, site.location.y


def destination_candidates(*, waste_class: str, code: str, category: str, on: datetime.date) -> list[Site]:
    sites = Site.objects.filter(active=True, kind__in=DESTINATION_KINDS[waste_class]).select_related("organisation")
    if waste_class == WasteClass.RECYCLABLE:
        return list(sites.filter(organisation__is_recycler=True))
    if waste_class == WasteClass.HAZARDOUS:
        permits = Permit.objects.filter(valid_from__lte=on, valid_until__gte=on, site__in=sites)
        wanted = {c for c in (code, category) if c}
        ids = {p.site_id for p in permits if wanted & set(p.codes)}
        return [s for s in sites if s.id in ids]
    return list(sites)


def destination_resolve(pickup: Pickup) -> tuple[Site | None, str]:
    """The nearest site that may receive this pickup's waste, or why there is none."""
    candidates = destination_candidates(
        waste_class=pickup.waste_class, code=pickup.waste_code, category=pickup.waste_category, on=pickup.date
    )
    if not candidates:
        codes = " / ".join(c for c in (pickup.waste_code, pickup.waste_category) if c) or "?"
        what = {
            WasteClass.HAZARDOUS: f"a permit in force for {codes}",
            WasteClass.RECYCLABLE: "a recycler's treatment site",
            WasteClass.GENERAL: "a treatment or disposal site",
        }[pickup.waste_class]
        return None, f"no active site with {what} on {pickup.date}"
    origin = _lon_lat(pickup.site)
    return min(candidates, key=lambda s: haversine_m(origin, _lon_lat(s))), ""


def _resolve_and_save(pickup: Pickup) -> Pickup:
    pickup.destination, pickup.destination_problem = destination_resolve(pickup)
    pickup.save()
    return pickup


def _window_check(start: datetime.time | None, end: datetime.time | None) -> None:
    if start and end and end <= start:
        raise AppError.field("window_end", _("The time window ends before it starts."), code="invalid_time_window")


@transaction.atomic
def pickup_create_for_batches(
    *,
    user,
    codes: list[str],
    date: datetime.date,
    hauler: Organisation | None = None,
    window_start: datetime.time | None = None,
    window_end: datetime.time | None = None,
    service_minutes: int = 10,
    waste_class: str | None = None,
) -> list[Pickup]:
    """One pickup per batch awaiting pickup; the batch's holder (or the named hauler) asks."""
    _window_check(window_start, window_end)
    batches = {
        b.code: b
        for b in visible_to(Batch.objects.select_related("waste", "current_site", "holder"), user).filter(
            code__in=codes
        )
    }
    errors: dict[str, list[str]] = {}
    for index, code in enumerate(codes):
        batch = batches.get(code)
        if batch is None:
            errors[f"codes.{index}"] = [_("No such batch.")]
        elif batch.status not in AWAITING_PICKUP or batch.current_site is None:
            errors[f"codes.{index}"] = [
                _("The batch is %(status)s, not awaiting pickup.") % {"status": batch.get_status_display()}
            ]
        elif Pickup.objects.filter(batch=batch, status__in=(PickupStatus.OPEN, PickupStatus.DISPATCHED)).exists():
            errors[f"codes.{index}"] = [_("The batch already has an open pickup request.")]
        elif waste_class and waste_class != WasteClass.HAZARDOUS and batch.is_hazardous:
            errors["waste_class"] = [_("A hazardous batch must be collected as hazardous.")]
    if errors:
        raise AppError(_("Some batches cannot be picked up."), fields=errors)
    created = []
    for code in codes:
        batch = batches[code]
        if hauler is None or not _member(user, hauler):
            membership_require(user=user, organisation=batch.holder, field="codes")
        if hauler is not None and not hauler.is_hauler:
            raise AppError.field("hauler", _("This organisation is not a hauler."))
        klass = WasteClass.HAZARDOUS if batch.is_hazardous else (waste_class or WasteClass.GENERAL)
        created.append(
            _resolve_and_save(
                Pickup(
                    hauler=hauler,
                    requested_by=batch.holder,
                    site=batch.current_site,
                    batch=batch,
                    waste_code=batch.waste.code,
                    waste_category=batch.waste.parent_code,
                    waste_class=klass,
                    quantity_kg=batch.last_weight_kg or batch.quantity_kg,
                    date=date,
                    window_start=window_start,
                    window_end=window_end,
                    service_minutes=service_minutes,
                )
            )
        )
    return created


def _member(user, organisation: Organisation) -> bool:
    try:
        membership_require(user=user, organisation=organisation)
    except AppError:
        return False
    return True


@transaction.atomic
def pickup_create_at_site(
    *,
    user,
    site: Site,
    quantity_kg: Decimal,
    date: datetime.date,
    waste_class: str,
    hauler: Organisation | None = None,
    waste_code: str = "",
    waste_category: str = "",
    volume_m3: Decimal = Decimal(0),
    window_start: datetime.time | None = None,
    window_end: datetime.time | None = None,
    service_minutes: int = 10,
) -> Pickup:
    """A collection point's (or any site's) expected fill, asked for by its operator or the hauler."""
    _window_check(window_start, window_end)
    if hauler is None or not _member(user, hauler):
        membership_require(user=user, organisation=site.organisation, field="site")
    if hauler is not None and not hauler.is_hauler:
        raise AppError.field("hauler", _("This organisation is not a hauler."))
    if waste_class == WasteClass.HAZARDOUS and not (waste_code or waste_category):
        raise AppError.field("waste_code", _("Hazardous waste needs its code or category (e.g. HW08)."))
    return _resolve_and_save(
        Pickup(
            hauler=hauler,
            requested_by=site.organisation,
            site=site,
            waste_code=waste_code,
            waste_category=waste_category,
            waste_class=waste_class,
            quantity_kg=quantity_kg,
            volume_m3=volume_m3,
            date=date,
            window_start=window_start,
            window_end=window_end,
            service_minutes=service_minutes,
        )
    )
