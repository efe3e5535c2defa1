"""Scans from haulers' and sites' devices, one or a thousand, each applied in one transaction.

A scan is a lifecycle act on a batch: waste's transition engine decides it and appends its ledger
entry; this module adds what logistics owns (the trip stop a pickup completes) in the same
transaction, so that a scan is never half-written.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.contrib.gis.geos import Point
from django.db import transaction
from django.utils.translation import gettext as _

from logistics.services.trips import trip_stops_complete_for_pickups
from waste.errors import AppError, NotFound
from waste.lifecycle import Action
from waste.selectors.acts import batch_locked_with_context
from waste.selectors.batches import batch_code_check, batches_locked
from waste.services.batches import event_time_check
from waste.services.transitions import Act, Outcome, transitions_apply

MAX_BULK = 1000


@dataclass
class Scan:
    """A validated scan, in the domain's words."""

    code: str
    action: str
    event_time: datetime
    site_id: int | None = None
    organisation_id: int | None = None
    location: Point | None = None
    weight_kg: Decimal | None = None
    device_id: str = ""
    reason: str = ""


# No savepoint when called inside a transaction (the idempotency wrapper's): a refused scan raises,
# and the caller's block rolls back whole, so a savepoint would only add two statements to every scan.
@transaction.atomic(savepoint=False)
def scan_record(*, user, scan: Scan) -> Outcome:
    """One scan: the batch's transition, its ledger entry and the trip stop it completes, or a refusal.
    The batch, its manifest, the sites and the user's organisations come in one read (see
    waste.selectors.acts)."""
    code = batch_code_check(scan.code)
    scan.event_time = event_time_check(scan.event_time, "event_time")
    batch, context = batch_locked_with_context(
        user=user, code=code, site_id=scan.site_id, organisation_id=scan.organisation_id
    )
    if batch is None:
        raise NotFound.field("code", _("No batch with this code."), code="unknown_batch")
    [outcome] = transitions_apply(user=user, items=[(batch, _act(user, scan))], context=context)
    if outcome.error is not None:
        raise outcome.error
    if scan.action == Action.PICKUP:
        # A carrier that picks a batch up has done its trip's stop for it.
        trip_stops_complete_for_pickups(picked={(batch.pk, outcome.entry.organisation_id)})
    return outcome


@transaction.atomic
def scans_record(*, user, scans: list[Scan]) -> list[Outcome]:
    """Many scans, set-based: the batches locked in one ordered statement, every scan decided against
    the lifecycle table, the writes in bulk. Scans of one batch apply in device-time order; a refused
    scan writes nothing and never blocks the others. Answers in the order given."""
    return _record(user, scans)


def _record(user, scans: list[Scan]) -> list[Outcome]:
    if len(scans) > MAX_BULK:
        raise AppError.field("scans", _("Upload at most %(max)d scans at once.") % {"max": MAX_BULK})
    outcomes: list[Outcome | None] = [None] * len(scans)
    codes: dict[int, str] = {}
    for index, scan in enumerate(scans):
        try:
            codes[index] = batch_code_check(scan.code)
            scan.event_time = event_time_check(scan.event_time, "event_time")
        except AppError as exc:
            codes.pop(index, None)
            outcomes[index] = Outcome(batch=None, error=exc)
    batches = batches_locked(list(codes.values()))
    order = []
    for index, code in codes.items():
        if code in batches:
            order.append(index)
        else:
            outcomes[index] = Outcome(
                batch=None, error=NotFound.field("code", _("No batch with this code."), code="unknown_batch")
            )
    order.sort(key=lambda i: (scans[i].event_time, i))
    applied = transitions_apply(user=user, items=[(batches[codes[i]], _act(user, scans[i])) for i in order])
    picked = set()
    for index, outcome in zip(order, applied, strict=True):
        outcomes[index] = outcome
        if outcome.error is None and scans[index].action == Action.PICKUP:
            picked.add((outcome.batch.pk, outcome.entry.organisation_id))
    # A carrier that picks a batch up has done its trip's stop for it.
    trip_stops_complete_for_pickups(picked=picked)
    return outcomes


def _act(user, scan: Scan) -> Act:
    return Act(
        user=user,
        action=scan.action,
        event_time=scan.event_time,
        organisation_id=scan.organisation_id,
        site_id=scan.site_id,
        location=scan.location,
        weight_kg=scan.weight_kg,
        device_id=scan.device_id,
        reason=scan.reason,
    )
