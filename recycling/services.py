"""Writes for recycling: treatment records, recyclers' capacities, offers and claims."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import DecimalField, F, Value
from django.utils import timezone
from django.utils.translation import gettext as _

from recycling.models import BatchOffer, Claim, OfferStatus, RecyclerCapacity, TreatmentOutput, TreatmentRecord
from waste.codes import batch_code_new
from waste.errors import AppError, Conflict, NotFound
from waste.lifecycle import TERMINAL
from waste.models import Batch, BatchStatus, Role, Site
from waste.permissions import membership_require
from waste.scoping import user_organisation_ids, visible_to
from waste.selectors.batches import batch_get
from waste.selectors.catalogs import catalog_entry_lookup, operation_is_final
from waste.services.batches import batch_treat, event_time_check, quantity_check
from waste.services.outputs import OutputSpec, batch_outputs_create

PLANT_ROLES = (Role.SITE_OPERATOR, Role.RECYCLER)
CAPACITY_ROLES = (Role.RECYCLER, Role.SITE_OPERATOR)
MAX_CAPACITY_KG = Decimal("1000000000")  # 1 Mt per period: beyond it, a typo


@dataclass
class Output:
    kind: str
    material: str
    quantity_kg: Decimal
    grade: str = ""
    waste_code: str | None = None


def batch_visible_get(*, user, code: str, field: str = "batch") -> Batch:
    """The batch if the user may see it; another organisation's batch is as unknown as a missing one."""
    batch = batch_get(code, field=field)
    if not visible_to(Batch.objects.filter(pk=batch.pk), user).exists():
        raise NotFound.field(field, _("No batch with this code."), code="unknown_batch")
    return batch


def _plant_check(*, user, batch: Batch) -> Site:
    site = batch.current_site
    if site is None or batch.status == BatchStatus.IN_TRANSIT:
        raise Conflict.field("batch", _("The batch is in transit; treat it where it is received."), code="not_here")
    if batch.holder_id != site.organisation_id:
        raise Conflict.field(
            "batch",
            _("%(code)s has not been accepted at %(name)s.") % {"code": batch.code, "name": site.name},
            code="not_here",
        )
    if not user.is_superuser and site.organisation_id not in user_organisation_ids(user):
        raise AppError.field(
            "batch",
            _("Only the organisation running the site that holds this batch can treat it."),
            code="not_holder",
            status=403,
        )
    membership_require(user=user, organisation=site.organisation, roles=PLANT_ROLES, field="batch")
    return site


def _balance_check(*, quantity_kg: Decimal, losses_kg: Decimal, outputs: list[Output]) -> None:
    quantity_check(quantity_kg, "quantity_kg")
    if losses_kg < 0:
        raise AppError.field("losses_kg", _("Must be zero or more."))
    fields: dict[str, list[str]] = {}
    for i, out in enumerate(outputs):
        if out.quantity_kg <= 0:
            fields[f"outputs.{i}.quantity_kg"] = [_("Must be greater than zero.")]
    if fields:
        raise AppError(_("Output quantities must be greater than zero."), fields=fields)
    accounted = sum((o.quantity_kg for o in outputs), Decimal(0)) + losses_kg
    if accounted > quantity_kg:
        message = _(
            "Outputs and losses add up to %(accounted)s kg, more than the %(quantity_kg)s kg treated: "
            "a treatment cannot create mass."
        ) % {"accounted": accounted, "quantity_kg": quantity_kg}
        raise AppError(message, code="unbalanced", fields={"outputs": [message]})


@transaction.atomic
def treatment_record(
    *,
    user,
    code: str,
    operation: str,
    quantity_kg: Decimal,
    losses_kg: Decimal = Decimal(0),
    treated_at: datetime | None = None,
    outputs: list[Output] | None = None,
) -> TreatmentRecord:
    """Records an R/D operation on a batch held at its plant, and turns its outputs into new batches.

    Interim operations (R12, R13, D13-D15) leave the batch awaiting its final fate and cannot
    produce outputs. Outputs plus losses may be less than the quantity treated (the rest is what a
    disposal operation keeps, or shows as a mass-balance discrepancy), never more.
    """
    outputs = outputs or []
    treated_at = event_time_check(treated_at, "treated_at")
    batch = batch_visible_get(user=user, code=code)
    site = _plant_check(user=user, batch=batch)
    operation = operation.strip().upper()
    final = operation_is_final(operation, on=timezone.localdate(treated_at), field="operation")
    if not final and outputs:
        raise AppError.field(
            "outputs",
            _("%(operation)s is an interim operation: the batch awaits its final fate and produces no outputs yet.")
            % {"operation": operation},
            code="interim",
        )
    if batch.status in TERMINAL:
        raise Conflict.field(
            "batch",
            _("%(code)s is %(lower)s.") % {"code": batch.code, "lower": batch.get_status_display().lower()},
            code="not_allowed",
        )
    if treated_at < batch.generated_at:
        raise AppError.field("treated_at", _("Is before the batch was generated."), code="out_of_order")
    _balance_check(quantity_kg=quantity_kg, losses_kg=losses_kg, outputs=outputs)
    specs = [
        OutputSpec(
            kind=o.kind,
            quantity_kg=o.quantity_kg,
            material=o.material,
            grade=o.grade,
            waste_code=o.waste_code,
            code=batch_code_new(),
            field=f"outputs.{i}",
        )
        for i, o in enumerate(outputs)
    ]
    batch, entry = batch_treat(
        user=user,
        code=batch.code,
        operation=operation,
        quantity_kg=quantity_kg,
        event_time=treated_at,
        data={
            "losses_kg": str(losses_kg),
            "outputs": [
                {
                    "batch": s.code,
                    "kind": s.kind,
                    "material": s.material,
                    "grade": s.grade,
                    "quantity_kg": str(s.quantity_kg),
                    "waste_code": s.waste_code or "",
                }
                for s in specs
            ],
        },
    )
    record = TreatmentRecord.objects.create(
        site=site,
        batch=batch,
        operation=operation,
        final=final,
        quantity_kg=quantity_kg,
        losses_kg=losses_kg,
        treated_at=treated_at,
        event=entry,
        created_by=user,
    )
    children = (
        batch_outputs_create(
            user=user, parent=batch, site=site, operation=operation, event_time=treated_at, outputs=specs
        )
        if specs
        else []
    )
    TreatmentOutput.objects.bulk_create(
        [
            TreatmentOutput(
                record=record, kind=s.kind, material=s.material, grade=s.grade, quantity_kg=s.quantity_kg, batch=child
            )
            for s, child in zip(specs, children, strict=True)
        ]
    )
    return record


# --- Capacities, offers, claims ------------------------------------------------------------------


def codes_canonical(*, codes: list[str], on: date, field: str = "codes") -> list[str]:
    """Waste codes or categories (HW08, SW17, HH-R) in their canonical form; unknown ones refused."""
    if not codes:
        raise AppError.field(field, _("List at least one waste code or category."))
    out = []
    for i, raw in enumerate(codes):
        entry = catalog_entry_lookup(code=raw, on=on, field=f"{field}.{i}")
        if entry.code not in out:
            out.append(entry.code)
    return out


def _capacity_check(*, period_start: date, period_end: date, capacity_kg: Decimal) -> None:
    if period_end < period_start:
        raise AppError.field("period_end", _("Ends before the period starts."))
    if capacity_kg <= 0 or capacity_kg > MAX_CAPACITY_KG:
        raise AppError.field(
            "capacity_kg",
            _("Must be greater than zero and at most %(max_capacity_kg)s kg.")
            % {"max_capacity_kg": format(MAX_CAPACITY_KG, ",")},
        )


@transaction.atomic
def capacity_create(
    *,
    user,
    site: Site,
    codes: list[str],
    period_start: date,
    period_end: date,
    capacity_kg: Decimal,
    price_per_t: Decimal = Decimal(0),
) -> RecyclerCapacity:
    membership_require(user=user, organisation=site.organisation, roles=CAPACITY_ROLES, field="site")
    if not site.active:
        raise AppError.field("site", _("This site is not active."))
    _capacity_check(period_start=period_start, period_end=period_end, capacity_kg=capacity_kg)
    return RecyclerCapacity.objects.create(
        organisation=site.organisation,
        site=site,
        codes=codes_canonical(codes=codes, on=period_start),
        period_start=period_start,
        period_end=period_end,
        capacity_kg=capacity_kg,
        price_per_t=price_per_t,
    )


@transaction.atomic
def capacity_update(
    *,
    user,
    capacity_id: int,
    codes: list[str],
    period_start: date,
    period_end: date,
    capacity_kg: Decimal,
    price_per_t: Decimal = Decimal(0),
    active: bool = True,
) -> RecyclerCapacity:
    """Edits a published capacity (its site stays). What is already booked on it stays booked, so the
    capacity never falls below it; the row lock keeps a concurrent claim from slipping in between."""
    capacity = RecyclerCapacity.objects.select_for_update().select_related("site", "organisation")
    capacity = capacity.filter(pk=capacity_id).first()
    if capacity is None or (not user.is_superuser and capacity.organisation_id not in user_organisation_ids(user)):
        raise NotFound.field("capacity", _("No such capacity of your organisation."), code="unknown_capacity")
    membership_require(user=user, organisation=capacity.organisation, roles=CAPACITY_ROLES, field="capacity")
    _capacity_check(period_start=period_start, period_end=period_end, capacity_kg=capacity_kg)
    if capacity_kg < capacity.booked_kg:
        raise AppError.field(
            "capacity_kg",
            _("%(booked)s kg are already booked on this capacity.") % {"booked": capacity.booked_kg},
            code="below_booked",
        )
    capacity.codes = codes_canonical(codes=codes, on=period_start)
    capacity.period_start, capacity.period_end = period_start, period_end
    capacity.capacity_kg, capacity.price_per_t, capacity.active = capacity_kg, price_per_t, active
    capacity.save(update_fields=["codes", "period_start", "period_end", "capacity_kg", "price_per_t", "active"])
    return capacity


def batch_weight(batch: Batch) -> Decimal:
    return batch.last_weight_kg or batch.quantity_kg


def capacity_covers(capacity: RecyclerCapacity, batch: Batch) -> bool:
    return batch.waste.code in capacity.codes or (
        bool(batch.waste.parent_code) and batch.waste.parent_code in capacity.codes
    )


@transaction.atomic
def offer_create(*, user, code: str) -> BatchOffer:
    batch = batch_visible_get(user=user, code=code)
    membership_require(user=user, organisation=batch.holder, field="batch")
    if batch.status in TERMINAL or batch.status == BatchStatus.IN_TRANSIT:
        raise Conflict.field(
            "batch",
            _("A batch that is %(lower)s cannot be offered.") % {"lower": batch.get_status_display().lower()},
            code="not_allowed",
        )
    if BatchOffer.objects.filter(batch=batch, status=OfferStatus.OPEN).exists():
        raise Conflict.field("batch", _("%(code)s is already on offer.") % {"code": batch.code}, code="already_offered")
    try:
        with transaction.atomic():
            return BatchOffer.objects.create(batch=batch, organisation=batch.holder)
    except IntegrityError as exc:  # a concurrent offer of the same batch won the race
        raise Conflict.field(
            "batch", _("%(code)s is already on offer.") % {"code": batch.code}, code="already_offered"
        ) from exc


@transaction.atomic
def offer_claim(*, user, offer_id: int, capacity_id: int) -> Claim:
    """Books the batch's weight on the capacity. Two compare-and-set updates in one transaction:
    the offer goes open -> claimed once, and the booking succeeds only while it fits, so two
    recyclers can never both take the same offer nor both book the last tonne."""
    offer = BatchOffer.objects.select_related("batch", "batch__waste").filter(pk=offer_id).first()
    if offer is None:
        raise NotFound.field("offer", _("No such offer."), code="unknown_offer")
    capacity = RecyclerCapacity.objects.select_related("organisation").filter(pk=capacity_id).first()
    if capacity is None or (not user.is_superuser and capacity.organisation_id not in user_organisation_ids(user)):
        raise NotFound.field("capacity", _("No such capacity of your organisation."), code="unknown_capacity")
    membership_require(user=user, organisation=capacity.organisation, roles=CAPACITY_ROLES, field="capacity")
    if offer.status != OfferStatus.OPEN:
        raise Conflict.field(
            "offer", _("This offer is %(lower)s.") % {"lower": offer.get_status_display().lower()}, code="not_open"
        )
    today = timezone.localdate()
    if not capacity.active or not capacity.period_start <= today <= capacity.period_end:
        raise AppError.field("capacity", _("This capacity is not active today."), code="inactive")
    if not capacity_covers(capacity, offer.batch):
        raise AppError.field(
            "capacity",
            _("This capacity does not accept %(display_code)s.") % {"display_code": offer.batch.waste.display_code},
            code="not_accepted",
        )
    quantity = batch_weight(offer.batch)
    if BatchOffer.objects.filter(pk=offer.pk, status=OfferStatus.OPEN).update(status=OfferStatus.CLAIMED) != 1:
        raise Conflict.field("offer", _("This offer was claimed by someone else."), code="not_open")
    q = Value(quantity, output_field=DecimalField(max_digits=16, decimal_places=3))
    booked = RecyclerCapacity.objects.filter(pk=capacity.pk, booked_kg__lte=F("capacity_kg") - q).update(
        booked_kg=F("booked_kg") + q
    )
    if booked != 1:
        # Raising rolls the offer back to open: the transaction is all or nothing.
        raise Conflict.field(
            "capacity",
            _("Booking %(quantity)s kg goes beyond remaining capacity.") % {"quantity": quantity},
            code="beyond_capacity",
        )
    return Claim.objects.create(offer=offer, capacity=capacity, quantity_kg=quantity, claimed_by=user)
