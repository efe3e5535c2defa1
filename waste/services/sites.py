"""Writes for sites and their permits."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.db import transaction
from django.utils.translation import gettext as _

from waste.errors import AppError
from waste.models import Organisation, Permit, Role, Site
from waste.permissions import membership_require
from waste.selectors.catalogs import catalog_entry_lookup
from waste.services.parties import district_code_check

SITE_ROLES = (Role.GENERATOR, Role.SITE_OPERATOR, Role.RECYCLER, Role.HAULER)
SITE_FIELDS = (
    "name",
    "kind",
    "location",
    "area",
    "district_code",
    "address",
    "storage_capacity_kg",
    "annual_capacity_kg",
    "active",
)


def _site_check(fields: dict) -> None:
    area, location = fields.get("area"), fields.get("location")
    if area is not None and location is not None and not area.intersects(location):
        raise AppError.field("area", _("The site's area must contain its location."))
    if "district_code" in fields:
        district_code_check(fields["district_code"])


@transaction.atomic
def site_create(*, user, organisation: Organisation, **fields) -> Site:
    membership_require(user=user, organisation=organisation, roles=SITE_ROLES)
    _site_check(fields)
    return Site.objects.create(organisation=organisation, **{k: v for k, v in fields.items() if k in SITE_FIELDS})


@transaction.atomic
def site_update(*, user, site: Site, **fields) -> Site:
    membership_require(user=user, organisation=site.organisation, field="site")
    site = Site.objects.select_for_update().get(pk=site.pk)
    merged = {"location": fields.get("location", site.location), "area": fields.get("area", site.area)}
    _site_check({**fields, **merged})
    for key, value in fields.items():
        if key in SITE_FIELDS:
            setattr(site, key, value)
    site.save()
    return site


@transaction.atomic
def permit_create(
    *,
    user,
    site: Site,
    number: str,
    codes: list[str],
    annual_quantity_kg: Decimal,
    valid_from: date,
    valid_until: date,
    operations: list[str] | None = None,
) -> Permit:
    membership_require(user=user, organisation=site.organisation, field="site")
    if valid_until < valid_from:
        raise AppError.field("valid_until", _("A permit cannot end before it starts."))
    if annual_quantity_kg <= 0:
        raise AppError.field("annual_quantity_kg", _("Must be greater than zero."))
    # Codes must exist in the catalog version in force on the permit's day nearest to today.
    on = min(max(valid_from, date.today()), valid_until)
    canonical = []
    for index, raw in enumerate(codes):
        canonical.append(catalog_entry_lookup(code=raw, on=on, field=f"codes.{index}").code)
    if not canonical:
        raise AppError.field("codes", _("A permit lists at least one waste code or category."))
    # Lock the site so two concurrent permits cannot both pass the overlap check.
    Site.objects.select_for_update().filter(pk=site.pk).first()
    for other in site.permits.filter(valid_from__lte=valid_until, valid_until__gte=valid_from):
        shared = sorted(set(other.codes) & set(canonical))
        if shared:
            raise AppError.field(
                "valid_from",
                _("Overlaps permit %(number)s (%(valid_from)s to %(valid_until)s) for %(join)s.")
                % {
                    "number": other.number,
                    "valid_from": other.valid_from,
                    "valid_until": other.valid_until,
                    "join": ", ".join(shared),
                },
                code="overlapping_permit",
                status=409,
            )
    return Permit.objects.create(
        site=site,
        number=number,
        codes=canonical,
        operations=operations or [],
        annual_quantity_kg=annual_quantity_kg,
        valid_from=valid_from,
        valid_until=valid_until,
    )
