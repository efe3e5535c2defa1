"""Writes for batches: creation, consolidation, splitting, treatment (transitions: waste.services.transitions)."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from waste.codes import batch_code_new
from waste.errors import AppError, Conflict
from waste.lifecycle import TRANSITIONS, Action
from waste.models import (
    Batch,
    BatchLink,
    BatchParty,
    BatchStatus,
    LedgerEntry,
    LinkKind,
    Organisation,
    Role,
    Site,
)
from waste.permissions import membership_require
from waste.selectors.batches import batch_get
from waste.selectors.catalogs import catalog_entry_lookup, operation_is_final
from waste.services.ledger import NewEvent, ledger_append

WASTE_CATALOGS = ("eu-low", "cn-hw", "cn-sw", "household")
MAX_BATCH_KG = Decimal("60000")
TRAITS = {"T", "C", "I", "R", "In"}


def quantity_check(value: Decimal | None, field: str) -> None:
    if value is None:
        return
    if value <= 0:
        raise AppError.field(field, _("Must be greater than zero."))
    if value > MAX_BATCH_KG:
        raise AppError.field(
            field, _("A batch weighs at most %(max_batch_kg)s kg (60 t).") % {"max_batch_kg": format(MAX_BATCH_KG, ",")}
        )


def event_time_check(value: datetime | None, field: str) -> datetime:
    now = timezone.now()
    if value is None:
        return now
    if timezone.is_naive(value):
        raise AppError.field(field, _("Give a time zone, e.g. 2026-11-22T09:30:00+08:00."))
    if value > now + timedelta(seconds=settings.CLOCK_SKEW_SECONDS):
        raise AppError.field(field, _("Is in the future beyond the allowed clock skew."), code="future_time")
    return value


def batch_party_add(batch: Batch, organisation: Organisation) -> None:
    # One INSERT ... ON CONFLICT DO NOTHING instead of get_or_create's SELECT + savepoint + INSERT.
    BatchParty.objects.bulk_create([BatchParty(batch=batch, organisation=organisation)], ignore_conflicts=True)


def _parties_inherit(child: Batch, parent: Batch) -> None:
    """Whoever had a part in a parent may follow what it became."""
    org_ids = BatchParty.objects.filter(batch=parent).values_list("organisation_id", flat=True)
    BatchParty.objects.bulk_create(
        [BatchParty(batch=child, organisation_id=org_id) for org_id in org_ids], ignore_conflicts=True
    )


def permit_check(*, site: Site, entry, on, field: str = "waste_code") -> None:
    """A site with permits in force may only handle the codes (or categories) they list."""
    permits = [p for p in site.permits.all() if p.valid_from <= on <= p.valid_until]
    if permits and not any(p.covers(entry.code, entry.parent_code, on) for p in permits):
        raise AppError.field(
            field,
            _("%(display_code)s is not covered by the permits of %(name)s.")
            % {"display_code": entry.display_code, "name": site.name},
            code="not_permitted",
        )


def _traits(raw: list[str] | None, entry) -> list[str]:
    if raw is None:
        return entry.traits
    unknown = sorted(set(raw) - TRAITS)
    if unknown:
        raise AppError.field(
            "hazard_traits", _("Unknown hazard traits %(unknown)s; use T, C, I, R, In.") % {"unknown": unknown}
        )
    return sorted(set(raw))


@transaction.atomic
def batch_create(
    *,
    user,
    site: Site,
    waste_code: str,
    quantity_kg: Decimal,
    description: str = "",
    main_components: str = "",
    physical_form: str = "solid",
    containers: list | None = None,
    hazard_traits: list[str] | None = None,
    estimated: bool = False,
    generated_at: datetime | None = None,
    organisation: Organisation | None = None,
) -> Batch:
    organisation = organisation or site.organisation
    if site.organisation_id != organisation.id:
        raise AppError.field("site", _("The site does not belong to this organisation."), status=403)
    membership_require(user=user, organisation=organisation, roles=(Role.GENERATOR, Role.SITE_OPERATOR), field="site")
    if not site.active:
        raise AppError.field("site", _("This site is not active."))
    quantity_check(quantity_kg, "quantity_kg")
    generated_at = event_time_check(generated_at, "generated_at")
    entry = catalog_entry_lookup(code=waste_code, on=timezone.localdate(generated_at), field="waste_code")
    if entry.catalog.key not in WASTE_CATALOGS:
        raise AppError.field(
            "waste_code",
            _("%(display_code)s is a category or operation, not a waste code.") % {"display_code": entry.display_code},
        )
    permit_check(site=site, entry=entry, on=timezone.localdate(generated_at))
    traits = _traits(hazard_traits, entry)
    batch = Batch.objects.create(
        code=batch_code_new(),
        organisation=organisation,
        origin_site=site,
        waste=entry,
        description=description,
        main_components=main_components,
        quantity_kg=quantity_kg,
        estimated=estimated,
        physical_form=physical_form,
        containers=containers or [],
        hazard_traits=",".join(traits),
        is_hazardous=entry.is_hazardous,
        status=BatchStatus.GENERATED,
        current_site=site,
        holder=organisation,
        generated_at=generated_at,
        created_by=user,
    )
    batch_party_add(batch, organisation)
    ledger_append(
        events=[
            NewEvent(
                event_type="generated",
                organisation=organisation,
                event_time=generated_at,
                batch=batch,
                user=user,
                site=site,
                location=site.location,
                quantity_kg=quantity_kg,
                data={
                    "waste_code": entry.code,
                    "catalog": f"{entry.catalog.key}@{entry.catalog.version}",
                    "hazardous": entry.is_hazardous,
                    "traits": traits,
                    "physical_form": physical_form,
                    "containers": containers or [],
                    "estimated": estimated,
                    "description": description,
                },
            )
        ]
    )
    return batch


# --- Consolidation, splitting, treatment -------------------------------------------------------


def batches_lock(codes: list[str], field: str) -> list[Batch]:
    if len(set(codes)) != len(codes):
        raise AppError.field(field, _("A batch is listed twice."), code="duplicate")
    batches = [batch_get(code, field=f"{field}.{i}") for i, code in enumerate(codes)]
    locked = {b.pk: b for b in Batch.objects.select_for_update().filter(pk__in=[b.pk for b in batches]).order_by("pk")}
    return [locked[b.pk] for b in batches]


def _compatible(parents: list[Batch], field: str) -> None:
    if len({p.is_hazardous for p in parents}) > 1:
        raise AppError.field(field, _("Hazardous waste is never mixed with non-hazardous waste."), code="incompatible")
    groups = {(p.waste.parent_code if p.is_hazardous else p.waste.code) for p in parents}
    if parents[0].is_hazardous and len(groups) > 1:
        raise AppError.field(
            field,
            _("Incompatible hazardous categories %(sorted)s: only one category may be consolidated together.")
            % {"sorted": sorted(groups)},
            code="incompatible",
        )


@transaction.atomic
def batch_consolidate(
    *, user, codes: list[str], site: Site, waste_code: str | None = None, event_time: datetime | None = None
) -> Batch:
    if len(codes) < 2:
        raise AppError.field("batches", _("Consolidation needs at least two batches."))
    event_time = event_time_check(event_time, "event_time")
    parents = batches_lock(codes, "batches")
    membership_require(
        user=user, organisation=site.organisation, roles=(Role.SITE_OPERATOR, Role.RECYCLER), field="site"
    )
    for i, parent in enumerate(parents):
        if parent.current_site_id != site.pk or parent.holder_id != site.organisation_id:
            raise AppError.field(
                f"batches.{i}",
                _("%(code)s is not held at %(name)s.") % {"code": parent.code, "name": site.name},
                code="not_here",
            )
    _compatible(parents, "batches")
    entry = parents[0].waste
    if waste_code:
        entry = catalog_entry_lookup(code=waste_code, on=timezone.localdate(event_time), field="waste_code")
        _compatible(parents + [Batch(waste=entry, is_hazardous=entry.is_hazardous)], "waste_code")
    elif len({p.waste_id for p in parents}) > 1:
        raise AppError.field("waste_code", _("The batches have different codes: name the consolidated batch's code."))
    weights = [p.last_weight_kg or p.quantity_kg for p in parents]
    total = sum(weights, Decimal(0))
    quantity_check(total, "batches")
    traits = sorted({t for p in parents for t in p.traits})
    child = Batch.objects.create(
        code=batch_code_new(),
        organisation=site.organisation,
        origin_site=site,
        waste=entry,
        description=f"Consolidated from {', '.join(p.code for p in parents)}",
        quantity_kg=total,
        physical_form=parents[0].physical_form,
        hazard_traits=",".join(traits),
        is_hazardous=entry.is_hazardous,
        status=BatchStatus.RECEIVED,
        current_site=site,
        holder=site.organisation,
        generated_at=event_time,
        created_by=user,
        last_weight_kg=total,
    )
    events = []
    for parent, weight in zip(parents, weights, strict=True):
        transition = TRANSITIONS[Action.CONSOLIDATE]
        if parent.status not in transition.sources:
            raise Conflict.field(
                "batches",
                _("%(code)s cannot be consolidated while %(lower)s.")
                % {"code": parent.code, "lower": parent.get_status_display().lower()},
                code="not_allowed",
            )
        BatchLink.objects.create(parent=parent, child=child, kind=LinkKind.CONSOLIDATION, quantity_kg=weight)
        parent.status = transition.target
        parent.save(update_fields=["status", "updated_at"])
        _parties_inherit(child, parent)
        events.append(
            NewEvent(
                event_type="consolidated",
                organisation=site.organisation,
                event_time=event_time,
                batch=parent,
                user=user,
                site=site,
                quantity_kg=weight,
                data={"into": child.code},
            )
        )
    batch_party_add(child, site.organisation)
    events.append(
        NewEvent(
            event_type="consolidated",
            organisation=site.organisation,
            event_time=event_time,
            batch=child,
            user=user,
            site=site,
            quantity_kg=total,
            data={"from": [p.code for p in parents], "waste_code": entry.code},
        )
    )
    ledger_append(events=events)
    return child


@transaction.atomic
def batch_split(*, user, code: str, quantities: list[Decimal], event_time: datetime | None = None) -> list[Batch]:
    if len(quantities) < 2:
        raise AppError.field("parts", _("Splitting needs at least two parts."))
    event_time = event_time_check(event_time, "event_time")
    parent = batch_get(code, lock=True)
    membership_require(user=user, organisation=parent.holder, field="code")
    transition = TRANSITIONS[Action.SPLIT]
    if parent.status not in transition.sources:
        raise Conflict.field(
            "code",
            _("Cannot split a batch that is %(lower)s.") % {"lower": parent.get_status_display().lower()},
            code="not_allowed",
        )
    for i, quantity in enumerate(quantities):
        if quantity <= 0:
            raise AppError.field(f"parts.{i}", _("Must be greater than zero."))
    whole = parent.last_weight_kg or parent.quantity_kg
    if sum(quantities, Decimal(0)) != whole:
        raise AppError.field(
            "parts",
            _("The parts add up to %(sum)s kg, the batch weighs %(whole)s kg.")
            % {"sum": sum(quantities), "whole": whole},
            code="unbalanced",
        )
    children = []
    events = []
    for quantity in quantities:
        child = Batch.objects.create(
            code=batch_code_new(),
            organisation=parent.holder,
            origin_site=parent.current_site or parent.origin_site,
            waste=parent.waste,
            description=f"Split from {parent.code}",
            main_components=parent.main_components,
            quantity_kg=quantity,
            physical_form=parent.physical_form,
            hazard_traits=parent.hazard_traits,
            is_hazardous=parent.is_hazardous,
            status=parent.status if parent.status != BatchStatus.GENERATED else BatchStatus.GENERATED,
            current_site=parent.current_site,
            holder=parent.holder,
            generated_at=event_time,
            created_by=user,
            last_weight_kg=quantity,
        )
        BatchLink.objects.create(parent=parent, child=child, kind=LinkKind.SPLIT, quantity_kg=quantity)
        _parties_inherit(child, parent)
        children.append(child)
        events.append(
            NewEvent(
                event_type="split",
                organisation=parent.holder,
                event_time=event_time,
                batch=child,
                user=user,
                site=parent.current_site,
                quantity_kg=quantity,
                data={"from": parent.code},
            )
        )
    parent.status = transition.target
    parent.save(update_fields=["status", "updated_at"])
    events.insert(
        0,
        NewEvent(
            event_type="split",
            organisation=parent.holder,
            event_time=event_time,
            batch=parent,
            user=user,
            site=parent.current_site,
            quantity_kg=whole,
            data={"into": [c.code for c in children]},
        ),
    )
    ledger_append(events=events)
    return children


@transaction.atomic
def batch_treat(
    *,
    user,
    code: str,
    operation: str,
    quantity_kg: Decimal | None = None,
    event_time: datetime | None = None,
    data: dict | None = None,
) -> tuple[Batch, LedgerEntry]:
    """Records an R/D operation. Interim operations (R12, R13, D13–D15) are never a final fate."""
    event_time = event_time_check(event_time, "event_time")
    batch = batch_get(code, lock=True)
    operation = operation.strip().upper()
    final = operation_is_final(operation, on=timezone.localdate(event_time), field="operation")
    site = batch.current_site
    if site is None:
        raise Conflict.field("code", _("The batch is in transit; treat it where it is received."), code="not_allowed")
    permits = [p for p in site.permits.all() if p.valid_from <= timezone.localdate(event_time) <= p.valid_until]
    if permits and not any(operation in p.operations for p in permits if p.operations):
        raise AppError.field(
            "operation",
            _("%(operation)s is not among the operations %(name)s is permitted for.")
            % {"operation": operation, "name": site.name},
            code="not_permitted",
        )
    from waste.services.transitions import Act, batch_transition  # it imports this module's checks

    act = Act(
        user=user,
        action=Action.TREAT if final else Action.TREAT_INTERIM,
        event_time=event_time,
        site=site,
        weight_kg=quantity_kg,
        data={"operation": operation, "final": final, **(data or {})},
    )
    entry = batch_transition(batch=batch, act=act)
    if final:
        Batch.objects.filter(pk=batch.pk).update(final_operation=operation)
        batch.final_operation = operation
    return batch, entry
