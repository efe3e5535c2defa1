"""Reads for recycling: treatments, mass balance per site, capacities, offers and matching."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.contrib.gis.db.models.functions import Distance
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from recycling.models import BatchOffer, Claim, OfferStatus, RecyclerCapacity, TreatmentRecord
from recycling.services import batch_weight, capacity_covers
from waste.models import Batch, LedgerEntry, Membership, Site
from waste.scoping import visible_to

KG = Decimal("0.001")

# Final operations whose input stays where it is put (landfill, land treatment, injection, release,
# permanent storage): the quantity they treat and do not declare as outputs or losses is their fate.
DEPOSIT_OPERATIONS = frozenset({"D1", "D2", "D3", "D4", "D5", "D6", "D7", "D12", "R10"})

# How a match is scored: each component lies in 0..1, the score is their weighted sum.
MATCH_WEIGHTS = {"distance": Decimal("0.5"), "price": Decimal("0.3"), "capacity": Decimal("0.2")}
DISTANCE_SCALE_KM = Decimal("20")  # a plant this far away scores 0.5 on distance


def treatment_list(*, user):
    return visible_to(
        TreatmentRecord.objects.select_related("site", "batch", "event").prefetch_related("outputs__batch__waste"),
        user,
    )


def capacity_list(*, user):
    return visible_to(RecyclerCapacity.objects.select_related("site", "organisation"), user)


def offer_list(*, user):
    """Offers the user's organisations made or claimed, what a regulator's jurisdiction holds, and,
    for members of recyclers, every open offer: the market they claim from."""
    queryset = BatchOffer.objects.select_related("batch", "batch__waste", "organisation").prefetch_related(
        "claims__capacity"
    )
    visible = visible_to(queryset, user)
    if user_is_recycler(user):
        return queryset.filter(Q(pk__in=visible.values("pk")) | Q(status=OfferStatus.OPEN))
    return visible


def user_is_recycler(user) -> bool:
    return (
        getattr(user, "is_authenticated", False)
        and Membership.objects.filter(user=user, organisation__is_recycler=True).exists()
    )


def offer_addressable(*, user, pk: int) -> bool:
    """Whether the user may address a claim to this offer: recyclers may name any offer of the market
    (one claimed a moment ago by a competitor answers 409, not 404); others only those they see."""
    if user_is_recycler(user):
        return BatchOffer.objects.filter(pk=pk).exists()
    return offer_list(user=user).filter(pk=pk).exists()


# --- Mass balance ------------------------------------------------------------------------------


@dataclass
class _Held:
    present: bool = False
    weight: Decimal = Decimal(0)


@dataclass
class MassBalance:
    site: Site
    date_from: dt.date
    date_to: dt.date
    opening_stock_kg: Decimal = Decimal(0)
    closing_stock_kg: Decimal = Decimal(0)
    received_kg: Decimal = Decimal(0)
    generated_kg: Decimal = Decimal(0)
    out_kg: Decimal = Decimal(0)
    treated_kg: Decimal = Decimal(0)
    interim_kg: Decimal = Decimal(0)
    secondary_kg: Decimal = Decimal(0)
    residue_kg: Decimal = Decimal(0)
    losses_kg: Decimal = Decimal(0)
    consumed_kg: Decimal = Decimal(0)
    by_operation: dict[str, Decimal] = field(default_factory=dict)
    tolerance_pct: Decimal = Decimal(0)

    @property
    def in_kg(self) -> Decimal:
        return self.received_kg + self.generated_kg

    @property
    def stock_change_kg(self) -> Decimal:
        return self.closing_stock_kg - self.opening_stock_kg

    @property
    def discrepancy_kg(self) -> Decimal:
        return self.in_kg - (self.out_kg + self.stock_change_kg + self.losses_kg + self.consumed_kg)

    @property
    def basis_kg(self) -> Decimal:
        return self.opening_stock_kg + self.in_kg

    @property
    def discrepancy_pct(self) -> Decimal | None:
        if not self.basis_kg:
            return None
        return (self.discrepancy_kg * 100 / self.basis_kg).quantize(Decimal("0.01"))

    @property
    def flagged(self) -> bool:
        if not self.discrepancy_kg:
            return False
        if not self.basis_kg:
            return True
        return abs(self.discrepancy_kg) * 100 > self.tolerance_pct * self.basis_kg

    def as_dict(self) -> dict:
        q = lambda v: str(v.quantize(KG))  # noqa: E731
        return {
            "site": {"id": self.site.pk, "name": self.site.name},
            "from": self.date_from.isoformat(),
            "to": self.date_to.isoformat(),
            "in_kg": q(self.in_kg),
            "received_kg": q(self.received_kg),
            "generated_kg": q(self.generated_kg),
            "out_kg": q(self.out_kg),
            "treated_kg": q(self.treated_kg),
            "interim_kg": q(self.interim_kg),
            "treated_by_operation": {op: q(v) for op, v in sorted(self.by_operation.items())},
            "outputs_kg": {"secondary": q(self.secondary_kg), "residue": q(self.residue_kg)},
            "losses_kg": q(self.losses_kg),
            "consumed_kg": q(self.consumed_kg),
            "opening_stock_kg": q(self.opening_stock_kg),
            "closing_stock_kg": q(self.closing_stock_kg),
            "stock_change_kg": q(self.stock_change_kg),
            "discrepancy_kg": q(self.discrepancy_kg),
            "discrepancy_pct": str(self.discrepancy_pct) if self.discrepancy_pct is not None else None,
            "tolerance_pct": str(self.tolerance_pct),
            "flagged": self.flagged,
            "identity": "in = out + stock_change + losses + consumed + discrepancy",
        }


def _local_midnight(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def mass_balance(site: Site, date_from: dt.date, date_to: dt.date) -> MassBalance:
    """The mass balance of ``site`` over the local days ``date_from``..``date_to`` (inclusive),
    projected from the ledger alone.

    ``in = out + stock change + losses + consumed``, and the discrepancy is what is left over:

    - **stock** at an instant: every batch held at the site then (received or generated there,
      formed there by consolidation, splitting or treatment, and not yet picked up, consolidated,
      split or finally treated), each at its last weight recorded before that instant;
    - **in**: batches received at the site (at the weight of the receipt, else their last weight)
      plus batches generated there, other than treatment outputs;
    - **out**: batches picked up from the site's stock;
    - **treatment** converts its input (the quantity treated, which leaves stock) into outputs
      (secondary materials and residues, which enter stock as new batches and count as stock or
      out from then on) and **losses** (moisture, emissions, combustion) that leave the balance;
    - **consumed**: what a deposit operation (D1-D7, D12, R10: landfill, land treatment, release,
      permanent storage) treats and declares neither as output nor as loss: that is its fate.
      Every other final operation must account for its input as outputs or losses;
    - consolidation and splitting only change which batches hold the mass, so they cancel out.

    The discrepancy is therefore mass that vanished without a record: a batch treated lighter than
    it was stocked, weight lost between weighings, a treatment whose outputs and losses fall short
    of its input. It is flagged when ``|discrepancy|`` exceeds ``MASS_BALANCE_TOLERANCE_PCT`` of the
    mass available (opening stock + in), or is non-zero when nothing was available.
    """
    start, end = _local_midnight(date_from), _local_midnight(date_to + dt.timedelta(days=1))
    balance = MassBalance(
        site=site, date_from=date_from, date_to=date_to, tolerance_pct=Decimal(str(settings.MASS_BALANCE_TOLERANCE_PCT))
    )
    touched = LedgerEntry.objects.filter(site=site, event_time__lt=end, batch__isnull=False).values("batch_id")
    events = (
        LedgerEntry.objects.filter(batch_id__in=touched, event_time__lt=end)
        .order_by("event_time", "id")
        .values_list("batch_id", "event_type", "site_id", "quantity_kg", "event_time", "data")
    )
    held: dict[int, _Held] = {}
    opened = False
    for batch_id, event_type, site_id, quantity, when, raw in events.iterator():
        if not opened and when >= start:
            balance.opening_stock_kg = _stock(held)
            opened = True
        state = held.setdefault(batch_id, _Held())
        in_period = when >= start
        _replay(balance if in_period else None, state, event_type, site_id == site.pk, quantity, raw)
    if not opened:
        balance.opening_stock_kg = _stock(held)
    balance.closing_stock_kg = _stock(held)
    return balance


def _stock(held: dict[int, _Held]) -> Decimal:
    return sum((h.weight for h in held.values() if h.present), Decimal(0))


def _replay(balance: MassBalance | None, state: _Held, event_type: str, here: bool, quantity, raw: str) -> None:
    """One ledger event's effect on the site's stock and, inside the period, on the flows."""
    data = json.loads(raw or "{}")
    measured = quantity
    if event_type == "generated":
        state.weight = measured if measured is not None else state.weight
        if here:
            state.present = True
            if balance is not None and not data.get("treatment_of"):
                balance.generated_kg += state.weight
        return
    if event_type == "received" and here:
        state.weight = measured if measured is not None else state.weight
        state.present = True
        if balance is not None:
            balance.received_kg += state.weight
        return
    if event_type == "picked_up":
        if state.present:
            state.present = False
            if balance is not None:
                balance.out_kg += measured if measured is not None else state.weight
        if measured is not None:
            state.weight = measured
        return
    if event_type in ("consolidated", "split") and here:
        if "into" in data:  # the parent: its mass moves to the children
            state.present = False
        else:  # a child formed here
            state.present = True
            state.weight = measured if measured is not None else state.weight
        return
    if event_type == "treated" and here:
        treated = measured if measured is not None else state.weight
        if not data.get("final", True):
            state.weight = treated
            if balance is not None:
                balance.interim_kg += treated
            return
        was_present, state.present = state.present, False
        if balance is None or not was_present:
            return
        outputs = data.get("outputs") or []
        secondary = sum((Decimal(o["quantity_kg"]) for o in outputs if o.get("kind") == "secondary"), Decimal(0))
        residue = sum((Decimal(o["quantity_kg"]) for o in outputs if o.get("kind") == "residue"), Decimal(0))
        losses = Decimal(data.get("losses_kg") or 0)
        operation = data.get("operation", "")
        balance.treated_kg += treated
        balance.by_operation[operation] = balance.by_operation.get(operation, Decimal(0)) + treated
        balance.secondary_kg += secondary
        balance.residue_kg += residue
        balance.losses_kg += losses
        if operation in DEPOSIT_OPERATIONS:
            balance.consumed_kg += max(treated - secondary - residue - losses, Decimal(0))
        # The stock it left at its stocked weight; a lighter treatment weight shows as a discrepancy.
        state.weight = treated
        return
    if measured is not None and state.present and event_type in ("weighed", "stored", "released"):
        state.weight = measured


# --- Matching ----------------------------------------------------------------------------------


def _price_components(candidates: list[RecyclerCapacity]) -> dict[int, Decimal]:
    prices = [c.price_per_t for c in candidates]
    if not prices:
        return {}
    low, high = min(prices), max(prices)
    if high == low:
        return {c.pk: Decimal(1) for c in candidates}
    return {c.pk: (c.price_per_t - low) / (high - low) for c in candidates}


def matches_for(*, batch: Batch, on: dt.date | None = None) -> dict:
    """Active capacities that accept ``batch`` today, best first, each with its score explained.

    Capacities with enough room come first, ranked by score; those that are too full follow,
    each with the reason. Components, each 0..1: distance = 1 / (1 + km / 20); price = where the
    price per tonne paid to the generator lies between the lowest and highest of the candidates
    (a gate fee is a negative price); capacity = the share of the remaining capacity still free
    after booking this batch. Score = sum of weight x component.
    """
    on = on or timezone.localdate()
    quantity = batch_weight(batch)
    where = batch.current_site or batch.origin_site
    candidates = [
        c
        for c in RecyclerCapacity.objects.filter(active=True, period_start__lte=on, period_end__gte=on)
        .select_related("site", "organisation")
        .annotate(distance=Distance("site__location", where.location))
        .order_by("pk")
        if capacity_covers(c, batch)
    ]
    prices = _price_components(candidates)
    fitting, short = [], []
    for capacity in candidates:
        remaining = capacity.capacity_kg - capacity.booked_kg
        km = Decimal(str(capacity.distance.m)) / 1000
        components = {
            "distance": 1 / (1 + km / DISTANCE_SCALE_KM),
            "price": prices[capacity.pk],
            "capacity": max((remaining - quantity) / remaining, Decimal(0)) if remaining > 0 else Decimal(0),
        }
        score = sum((MATCH_WEIGHTS[k] * v for k, v in components.items()), Decimal(0))
        row = {
            "capacity": capacity.pk,
            "organisation": {"id": capacity.organisation_id, "name": capacity.organisation.name},
            "site": {"id": capacity.site_id, "name": capacity.site.name},
            "codes": capacity.codes,
            "period": [capacity.period_start.isoformat(), capacity.period_end.isoformat()],
            "distance_km": str(km.quantize(Decimal("0.01"))),
            "remaining_kg": str(remaining.quantize(KG)),
            "price_per_t": str(capacity.price_per_t),
            "fits": remaining >= quantity,
            "score": str(score.quantize(Decimal("0.0001"))),
            "explanation": {
                k: {
                    "value": str(v.quantize(Decimal("0.0001"))),
                    "weight": str(MATCH_WEIGHTS[k]),
                    "contribution": str((MATCH_WEIGHTS[k] * v).quantize(Decimal("0.0001"))),
                }
                for k, v in components.items()
            },
            "reason": None,
        }
        if remaining >= quantity:
            fitting.append((score, row))
        else:
            row["reason"] = _("remaining capacity %(remaining)s kg is less than the batch's %(quantity)s kg") % {
                "remaining": remaining.quantize(KG),
                "quantity": quantity,
            }
            short.append((score, row))
    ranked = [row for _, row in sorted(fitting, key=lambda p: -p[0])] + [
        row for _, row in sorted(short, key=lambda p: -p[0])
    ]
    for rank, row in enumerate(ranked, start=1):
        row["rank"] = rank
    return {
        "batch": batch.code,
        "waste_code": batch.waste.display_code,
        "quantity_kg": str(quantity),
        "from_site": {"id": where.pk, "name": where.name},
        "on": on.isoformat(),
        "weights": {k: str(v) for k, v in MATCH_WEIGHTS.items()},
        "scoring": {
            "distance": f"1 / (1 + km / {DISTANCE_SCALE_KM})",
            "price": _("(price - lowest) / (highest - lowest) among the candidates; 1 if all equal"),
            "capacity": _("(remaining - batch) / remaining, 0 when the batch does not fit"),
            "score": _("sum of weight x value; capacities the batch does not fit are listed after"),
        },
        "matches": ranked,
    }


def claim_list(*, user):
    return visible_to(
        Claim.objects.select_related(
            "offer", "offer__batch", "offer__batch__waste", "offer__organisation", "capacity__site"
        ),
        user,
    )


def offers_open_for(*, user, organisation, matching: bool = True, on: dt.date | None = None):
    """The market as ``organisation`` sees it: open offers of others, newest first; with ``matching``,
    only those whose waste code (or its category) one of its capacities active on ``on`` accepts."""
    queryset = (
        offer_list(user=user)
        .filter(status=OfferStatus.OPEN)
        .exclude(organisation=organisation)
        .select_related("batch__origin_site", "batch__current_site")
        .order_by("-created_at", "-id")
    )
    if not matching:
        return queryset
    on = on or timezone.localdate()
    codes = {
        code
        for accepted in RecyclerCapacity.objects.filter(
            organisation=organisation, active=True, period_start__lte=on, period_end__gte=on
        ).values_list("codes", flat=True)
        for code in accepted
    }
    return queryset.filter(Q(batch__waste__code__in=codes) | Q(batch__waste__parent_code__in=codes))
