"""The early-warning rules: one registry of functions, each yielding a ``Hit`` per cause.

A cause names what makes an alert unique (``alert_raise`` keeps one alert per rule and cause), so
running the rules again finds the same causes and raises nothing new. Other apps add rules
without waste importing them: an AppConfig with an ``alert_rules()`` method returning
``{rule: function}`` (see ``rules_all``).
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from django.apps import apps
from django.conf import settings
from django.contrib.gis.geos import Point
from django.db.models import Exists, F, Max, OuterRef, Q, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_noop

from waste.lifecycle import TERMINAL
from waste.models import (
    AlertRule,
    Batch,
    BatchStatus,
    LedgerEntry,
    Manifest,
    ManifestStatus,
    Organisation,
    Permit,
    Site,
)


@dataclass
class Hit:
    """One cause found by a rule. ``message`` is a gettext msgid (marked with gettext_noop) and
    ``params`` its named values: the alert stores both and renders them in the reader's language."""

    cause: str
    message: str
    params: dict = field(default_factory=dict)
    organisation: Organisation | None = None
    site: Site | None = None
    batch: Batch | None = None
    manifest: Manifest | None = None
    data: dict = field(default_factory=dict)
    severity: str = "warning"
    location: Point | None = None  # where it happened, when no site says it (e.g. a truck in a field)


Rule = Callable[[datetime.datetime], Iterator[Hit]]
RULES: dict[str, Rule] = {}


def rule(name: str):
    def register(func: Rule) -> Rule:
        RULES[name] = func
        return func

    return register


def rules_all() -> dict[str, Rule]:
    found = dict(RULES)
    for config in apps.get_app_configs():
        hook = getattr(config, "alert_rules", None)
        if callable(hook):
            found.update(hook())
    return found


@rule(AlertRule.MANIFEST_OVERDUE)
def manifest_overdue(now: datetime.datetime) -> Iterator[Hit]:
    """Sealed or in transit, and not signed by the receiver by its due date (5 working days)."""
    today = timezone.localdate(now)
    overdue = Manifest.objects.filter(
        correction__isnull=True,
        receiver_signed_at__isnull=True,
        receipt_due__lt=today,
        status__in=[ManifestStatus.SEALED, ManifestStatus.IN_TRANSIT],
    ).select_related("consignor", "from_site")
    for m in overdue:
        yield Hit(
            cause=f"manifest:{m.number}",
            manifest=m,
            organisation=m.consignor,
            site=m.from_site,
            message=gettext_noop("Manifest %(manifest)s was due to be received by %(due)s and is not."),
            params={"manifest": m.number, "due": m.receipt_due.isoformat()},
            data={"receipt_due": m.receipt_due.isoformat()},
        )


@rule(AlertRule.STORAGE_TOO_LONG)
def storage_too_long(now: datetime.datetime) -> Iterator[Hit]:
    """Hazardous waste still held at a site longer than HAZARDOUS_STORAGE_LIMIT_DAYS after generation."""
    limit = now - datetime.timedelta(days=settings.HAZARDOUS_STORAGE_LIMIT_DAYS)
    batches = (
        Batch.objects.filter(is_hazardous=True, generated_at__lt=limit, current_site__isnull=False)
        .exclude(status__in=TERMINAL)
        .select_related("holder", "current_site")
    )
    for b in batches:
        yield Hit(
            cause=f"batch:{b.code}",
            batch=b,
            organisation=b.holder,
            site=b.current_site,
            message=gettext_noop(
                "Hazardous batch %(batch)s has been held since %(since)s, beyond the %(limit_days)s-day limit."
            ),
            params={
                "batch": b.code,
                "since": timezone.localdate(b.generated_at).isoformat(),
                "limit_days": settings.HAZARDOUS_STORAGE_LIMIT_DAYS,
            },
            data={"generated_at": b.generated_at.isoformat(), "limit_days": settings.HAZARDOUS_STORAGE_LIMIT_DAYS},
        )


def _flagged(now: datetime.datetime, flag: str):
    since = now - datetime.timedelta(days=settings.ALERT_LOOKBACK_DAYS)
    return LedgerEntry.objects.filter(event_time__gte=since, flags__contains=flag).select_related(
        "batch", "site", "organisation"
    )


@rule(AlertRule.WEIGHT_MISMATCH)
def weight_mismatch(now: datetime.datetime) -> Iterator[Hit]:
    """Ledger events flagged ``weight_mismatch`` (beyond WEIGHT_TOLERANCE_PCT) in the look-back window."""
    for e in _flagged(now, "weight_mismatch"):
        yield Hit(
            cause=f"event:{e.event_id}",
            batch=e.batch,
            organisation=e.organisation,
            site=e.site,
            message=gettext_noop(
                "%(batch)s weighed %(weight_kg)s kg at %(event_type)s, beyond the %(tolerance_pct)s%% tolerance."
            ),
            params={
                "batch": e.batch_code,
                "weight_kg": str(e.quantity_kg),
                "event_type": e.event_type,
                "tolerance_pct": settings.WEIGHT_TOLERANCE_PCT,
            },
            data={"event": str(e.event_id), "weight_kg": str(e.quantity_kg)},
        )


@rule(AlertRule.OFF_SITE_SCAN)
def off_site_scan(now: datetime.datetime) -> Iterator[Hit]:
    """Ledger events flagged ``off_site`` (scanned beyond GEOFENCE_RADIUS_M from their site)."""
    for e in _flagged(now, "off_site"):
        yield Hit(
            cause=f"event:{e.event_id}",
            batch=e.batch,
            organisation=e.organisation,
            site=e.site,
            message=gettext_noop("%(batch)s was scanned (%(event_type)s) away from %(site)s.")
            if e.site
            else gettext_noop("%(batch)s was scanned (%(event_type)s) away from its site."),
            params={"batch": e.batch_code, "event_type": e.event_type, "site": e.site.name if e.site else ""},
            data={"event": str(e.event_id)},
        )


@rule(AlertRule.PERMIT_EXCEEDED)
def permit_exceeded(now: datetime.datetime) -> Iterator[Hit]:
    """A permit in force whose site has received (or generated) more this calendar year than permitted."""
    today = timezone.localdate(now)
    start = datetime.datetime(today.year, 1, 1, tzinfo=timezone.get_current_timezone())
    permits = Permit.objects.filter(valid_from__lte=today, valid_until__gte=today).select_related(
        "site", "site__organisation"
    )
    handled = dict(
        LedgerEntry.objects.filter(
            event_type__in=["received", "generated"], event_time__gte=start, site__in=permits.values("site")
        )
        .values("site")
        .annotate(kg=Sum(Coalesce("quantity_kg", "batch__quantity_kg")))
        .values_list("site", "kg")
    )
    for p in permits:
        kg = handled.get(p.site_id) or 0
        if kg > p.annual_quantity_kg:
            yield Hit(
                cause=f"permit:{p.pk}:{today.year}",
                site=p.site,
                organisation=p.site.organisation,
                message=gettext_noop(
                    "%(site)s has handled %(handled_kg)s kg in %(year)s, beyond the %(permitted_kg)s kg "
                    "of permit %(permit)s."
                ),
                params={
                    "site": p.site.name,
                    "handled_kg": str(kg),
                    "year": today.year,
                    "permitted_kg": str(p.annual_quantity_kg),
                    "permit": p.number,
                },
                data={"permit": p.number, "handled_kg": str(kg), "permitted_kg": str(p.annual_quantity_kg)},
            )


@rule(AlertRule.CAPACITY_EXCEEDED)
def capacity_exceeded(now: datetime.datetime) -> Iterator[Hit]:
    """A site holding more than its storage capacity (once per site and month)."""
    month = timezone.localdate(now).strftime("%Y-%m")
    held = (
        Batch.objects.filter(current_site__storage_capacity_kg__isnull=False)
        .exclude(status__in=TERMINAL)
        .exclude(status=BatchStatus.IN_TRANSIT)
        .values("current_site")
        .annotate(kg=Sum(Coalesce("last_weight_kg", "quantity_kg")), cap=Max("current_site__storage_capacity_kg"))
        .filter(kg__gt=F("cap"))
    )
    held = list(held)
    sites = Site.objects.select_related("organisation").in_bulk([row["current_site"] for row in held])
    for row in held:
        site = sites[row["current_site"]]
        yield Hit(
            cause=f"site:{site.pk}:{month}",
            site=site,
            organisation=site.organisation,
            message=gettext_noop("%(site)s holds %(held_kg)s kg, beyond its storage capacity of %(capacity_kg)s kg."),
            params={"site": site.name, "held_kg": str(row["kg"]), "capacity_kg": str(row["cap"])},
            data={"held_kg": str(row["kg"]), "capacity_kg": str(row["cap"])},
        )


@rule(AlertRule.VANISHED)
def vanished(now: datetime.datetime) -> Iterator[Hit]:
    """Picked up and not received (nor rejected) within VANISHED_AFTER_HOURS."""
    limit = now - datetime.timedelta(hours=settings.VANISHED_AFTER_HOURS)
    batches = (
        Batch.objects.filter(status__in=[BatchStatus.IN_TRANSIT, BatchStatus.DELIVERED])
        .annotate(picked=Max("events__event_time", filter=Q(events__event_type="picked_up")))
        .filter(picked__lt=limit)
        .select_related("holder", "organisation")
    )
    for b in batches:
        yield Hit(
            cause=f"batch:{b.code}:{b.picked.isoformat()}",
            batch=b,
            organisation=b.organisation,
            severity="critical",
            message=gettext_noop(
                "%(batch)s was picked up at %(picked_up_at)s and has not been received within %(hours)s h."
            ),
            params={
                "batch": b.code,
                "picked_up_at": f"{timezone.localtime(b.picked):%Y-%m-%d %H:%M}",
                "hours": settings.VANISHED_AFTER_HOURS,
            },
            data={"picked_up_at": b.picked.isoformat(), "holder": b.holder.name},
        )


@rule(AlertRule.TREATMENT_WITHOUT_INTAKE)
def treatment_without_intake(now: datetime.datetime) -> Iterator[Hit]:
    """A ``treated`` event at a site where the batch was never generated, received or formed."""
    since = now - datetime.timedelta(days=settings.ALERT_LOOKBACK_DAYS)
    intake = LedgerEntry.objects.filter(
        batch=OuterRef("batch"),
        site=OuterRef("site"),
        event_type__in=["generated", "received", "consolidated", "split"],
    )
    treated = (
        LedgerEntry.objects.filter(event_type="treated", event_time__gte=since, batch__isnull=False)
        .filter(~Exists(intake))
        .select_related("batch", "site", "organisation")
    )
    for e in treated:
        yield Hit(
            cause=f"event:{e.event_id}",
            batch=e.batch,
            organisation=e.organisation,
            site=e.site,
            message=gettext_noop("%(batch)s was treated at %(site)s without ever being received there.")
            if e.site
            else gettext_noop("%(batch)s was treated at an unknown site without ever being received there."),
            params={"batch": e.batch_code, "site": e.site.name if e.site else ""},
            data={"event": str(e.event_id)},
        )
