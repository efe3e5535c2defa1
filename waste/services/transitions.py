"""Lifecycle transitions: one engine for one scan or a thousand.

Every change of a batch's status or custody goes through ``transitions_apply``. It reads what the
decisions need in a fixed number of statements (the acting user's organisations, the batches' open
manifests with their carriers, the sites involved), decides each act in Python against the table
in waste.lifecycle, and writes batches, manifests and ledger entries in bulk, in the caller's
transaction. A refused act changes nothing and never blocks the acts after it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from django.conf import settings
from django.contrib.gis.geos import Point
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from geographiclib.geodesic import Geodesic

from waste.errors import AppError, Conflict
from waste.lifecycle import TRANSITIONS, Action, Actor, Custody, Effect, ManifestRule, SiteRule, Transition
from waste.models import (
    Batch,
    BatchParty,
    LedgerEntry,
    Manifest,
    ManifestCarrier,
    ManifestLine,
    ManifestStatus,
    Organisation,
    Site,
)
from waste.selectors.acts import ActContext, act_context
from waste.selectors.batches import batch_get
from waste.services.batches import event_time_check, quantity_check
from waste.services.ledger import NewEvent, ledger_append


@dataclass
class Act:
    """What a transition needs beyond the batch: who acts, where, when, with what measurement.

    ``site`` and ``organisation`` may be given as rows or as ids (``site_id``, ``organisation_id``).
    """

    user: object
    action: str
    event_time: datetime
    organisation: Organisation | None = None
    site: Site | None = None
    location: Point | None = None
    weight_kg: Decimal | None = None
    device_id: str = ""
    reason: str = ""
    data: dict | None = None
    site_id: int | None = None
    organisation_id: int | None = None

    def __post_init__(self):
        if self.site is not None:
            self.site_id = self.site.pk
        if self.organisation is not None:
            self.organisation_id = self.organisation.pk


@dataclass
class Outcome:
    """The answer for one act: the batch's status after it and its ledger entry, or the refusal."""

    batch: Batch | None
    status: str = ""
    entry: LedgerEntry | None = None
    error: AppError | None = None


@dataclass
class _Writes:
    batches: dict[int, Batch] = field(default_factory=dict)
    parties: set[tuple[int, int]] = field(default_factory=set)
    carrier_signs: set[tuple[int, int]] = field(default_factory=set)
    in_transit: set[int] = field(default_factory=set)
    lines: dict[int, ManifestLine] = field(default_factory=dict)
    events: list[tuple[int, NewEvent]] = field(default_factory=list)
    organisations: dict[int, Organisation] = field(default_factory=dict)  # one row per id, not per event


def _context(user, items: list[tuple[Batch, Act]]) -> ActContext:
    return act_context(
        user=user,
        batches=[b for b, _a in items],
        needs_lines=[b.pk for b, act in items if _rule(act).manifest != ManifestRule.NONE],
        site_ids={act.site_id for _b, act in items if act.site_id is not None},
        org_ids={act.organisation_id for _b, act in items if act.organisation_id is not None},
    )


def _rule(act: Act) -> Transition:
    transition = TRANSITIONS.get(act.action)
    if transition is None:
        raise AppError.field("action", _("Unknown action %(action)r.") % {"action": act.action})
    return transition


def transitions_apply(*, user, items: list[tuple[Batch, Act]], context: ActContext | None = None) -> list[Outcome]:
    """Applies ``items`` (locked batches and what is done to them) in order, in the caller's
    transaction, and answers each one. The same batch may appear several times. ``context``: what
    the acts need, when the caller read it with the batches (waste.selectors.acts)."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("transitions_apply must run inside the caller's transaction")
    ctx = context or _context(user, [(b, act) for b, act in items if act.action in TRANSITIONS])
    writes = _Writes()
    outcomes = []
    for index, (batch, act) in enumerate(items):
        try:
            plan = _decide(ctx, batch, act)
        except AppError as exc:
            outcomes.append(Outcome(batch=batch, error=exc))
            continue
        _commit(plan, writes, index)
        outcomes.append(Outcome(batch=batch, status=batch.status))
    entries = _flush(user, writes)
    for (index, _event), entry in zip(writes.events, entries, strict=True):
        outcomes[index].entry = entry
    return outcomes


@dataclass
class _Plan:
    batch: Batch
    act: Act
    transition: Transition
    organisation_id: int
    site: Site | None
    line: ManifestLine | None
    flags: list[str]
    data: dict


def _decide(ctx: ActContext, batch: Batch, act: Act) -> _Plan:
    """Every check, no change: a refusal here leaves nothing behind."""
    transition = _rule(act)
    if batch.status not in transition.sources:
        raise Conflict.field(
            "action",
            _("Cannot %(action)s a batch that is %(status)s.")
            % {"action": Action(act.action).label, "status": batch.get_status_display().lower()},
            code="not_allowed",
        )
    if act.event_time < batch.generated_at:
        raise AppError.field("event_time", _("Is before the batch was generated."), code="out_of_order")
    quantity_check(act.weight_kg, "weight_kg")
    line = _line(ctx, batch, transition)
    organisation_id, role = _actor(ctx, act, batch, transition, line)
    if transition.manifest == ManifestRule.SIGNED and line.manifest.consignor_signed_at is None:
        raise Conflict.field("code", _("The consignor has not signed the manifest yet."), code="not_signed")
    if transition.custody == Custody.CARRIER and batch.carrier_id == organisation_id:
        raise Conflict.field("code", _("This batch is already in your vehicle."), code="already_picked_up")
    site = _site(ctx, act, batch, transition, line, role)
    flags, data = [], {"action": str(act.action), **(act.data or {})}
    if act.device_id:
        data["device_id"] = act.device_id
    if act.reason:
        data["reason"] = act.reason
    if site is not None and act.location is not None:
        distance = _metres(site.location, act.location)
        data["distance_m"] = round(distance, 1)
        if distance > settings.SCAN_REFUSAL_RADIUS_M:
            raise Conflict.field(
                "location",
                _("The scan is %(km).1f km from %(site)s, where this batch is: it cannot be here.")
                % {"km": distance / 1000, "site": site.name},
                code="too_far",
            )
        if distance > settings.GEOFENCE_RADIUS_M:
            flags.append("off_site")
    if act.weight_kg is not None:
        reference = batch.last_weight_kg or batch.quantity_kg
        data["expected_kg"] = str(reference)
        # A partial acceptance weighs what is kept; the part refused at the gate is not missing weight.
        weighed = act.weight_kg + Decimal((act.data or {}).get("refused_kg") or 0)
        if abs(weighed - reference) > reference * Decimal(settings.WEIGHT_TOLERANCE_PCT) / 100:
            flags.append("weight_mismatch")
    if line is not None:
        data["manifest"] = line.manifest.number
    return _Plan(batch, act, transition, organisation_id, site, line, flags, data)


def _line(ctx: ActContext, batch: Batch, transition: Transition) -> ManifestLine | None:
    if transition.manifest == ManifestRule.NONE:
        return None
    line = ctx.lines.get(batch.pk)
    # Only a pickup looks at drafts, so that it can say the consignor has not signed yet.
    if line is not None and line.manifest.status == ManifestStatus.DRAFT and transition.manifest != ManifestRule.SIGNED:
        return None
    return line


def _actor(ctx: ActContext, act: Act, batch: Batch, transition: Transition, line) -> tuple[int, str]:
    """(acting organisation, why it may act) or a refusal naming the reason."""
    orgs = ctx.orgs
    if act.organisation_id is not None:
        if act.organisation_id not in ctx.known_orgs:
            raise AppError.field("organisation", _("You cannot act for this organisation."), status=403)
        orgs = {act.organisation_id}

    def may(org_id: int) -> bool:
        return orgs is None or org_id in orgs

    actor = transition.actor
    if actor in (Actor.HOLDER, Actor.HOLDER_OR_RECEIVER) and may(batch.holder_id):
        return batch.holder_id, "holder"
    if actor in (Actor.RECEIVER, Actor.HOLDER_OR_RECEIVER):
        if line is None:
            raise Conflict.field("code", _("This batch is on no open manifest to receive."), code="no_manifest")
        if may(line.manifest.receiver_id):
            return line.manifest.receiver_id, "receiver"
        raise AppError.field("code", _("Only the manifest's receiver can do this."), code="not_receiver", status=403)
    if actor == Actor.CARRIER:
        if line is None:
            raise Conflict.field("code", _("This batch is on no manifest signed by its consignor."), code="no_manifest")
        for carrier in line.manifest.carrier_rows:
            if may(carrier.organisation_id):
                return carrier.organisation_id, "carrier"
        raise AppError.field(
            "code", _("Your organisation is not a carrier on this batch's manifest."), code="not_carrier", status=403
        )
    raise AppError.field(
        "code", _("Only the organisation holding this batch can do this."), code="not_holder", status=403
    )


def _site(ctx: ActContext, act: Act, batch: Batch, transition: Transition, line, role: str) -> Site | None:
    """Where the act happens. Custody: a batch is at one site or in one vehicle, and is scanned there."""
    if act.site_id is not None and act.site_id not in ctx.sites:
        raise AppError.field("site", _("No such site."), code="unknown_site")
    rule = transition.site
    if rule == SiteRule.HERE_OR_DESTINATION:
        rule = SiteRule.DESTINATION if role == "receiver" else SiteRule.HERE
    expected = None
    if rule == SiteRule.DESTINATION and line is not None:
        expected = line.manifest.to_site_id
    elif rule == SiteRule.HERE:
        expected = batch.current_site_id  # None: in a vehicle, which may be anywhere
    if expected is None:
        site = ctx.sites.get(act.site_id)
    else:
        site = ctx.sites[expected]
        if act.site_id is not None and act.site_id != expected:
            named = ctx.sites[act.site_id]
            if rule == SiteRule.DESTINATION:
                message = _("This batch is going to %(site)s, not to %(named)s.")
            else:
                message = _("This batch is at %(site)s, not at %(named)s.")
            raise Conflict.field("site", message % {"site": site.name, "named": named.name}, code="not_here")
    if site is None and transition.custody in (Custody.SITE, Custody.RECEIVER):
        raise AppError.field("site", _("Name the site where this happens."), code="required")
    return site


_WGS84 = Geodesic.WGS84


def _metres(a: Point, b: Point) -> float:
    """Geodesic distance on the WGS84 ellipsoid (what PostGIS computes on geography), without a
    round trip to the database: the bulk path checks a thousand scans this way."""
    return _WGS84.Inverse(a.y, a.x, b.y, b.x, Geodesic.DISTANCE)["s12"]


def _commit(plan: _Plan, writes: _Writes, index: int) -> None:
    """The decided act's consequences, in memory: batch custody and status, manifest, ledger event."""
    batch, act, transition, line = plan.batch, plan.act, plan.transition, plan.line
    site_id = plan.site.pk if plan.site is not None else None
    if act.weight_kg is not None:
        batch.last_weight_kg = act.weight_kg
    if transition.effect == Effect.CARRIER_SIGNS:
        # The carrier signs its part by scanning at pickup, once: its later pickups write nothing here.
        if any(c.organisation_id == plan.organisation_id and c.signed_at is None for c in line.manifest.carrier_rows):
            writes.carrier_signs.add((line.manifest_id, plan.organisation_id))
        if line.manifest.status == ManifestStatus.SEALED:
            line.manifest.status = ManifestStatus.IN_TRANSIT
            writes.in_transit.add(line.manifest_id)
    elif transition.effect == Effect.LINE_RECEIVED:
        line.received_kg = act.weight_kg or batch.last_weight_kg or line.quantity_kg
        writes.lines[line.pk] = line
    elif transition.effect == Effect.LINE_REFUSED:
        line.refused_kg, line.refusal_reason = line.quantity_kg, act.reason
        writes.lines[line.pk] = line
    if transition.custody == Custody.CARRIER:
        batch.holder_id, batch.carrier_id, batch.current_site_id = plan.organisation_id, plan.organisation_id, None
    elif transition.custody == Custody.SITE:
        batch.carrier_id, batch.current_site_id = None, site_id
    elif transition.custody == Custody.RECEIVER:
        batch.holder_id, batch.carrier_id, batch.current_site_id = plan.organisation_id, None, site_id
    if transition.target is not None:
        batch.status = transition.target
    writes.batches[batch.pk] = batch
    writes.parties.add((batch.pk, plan.organisation_id))
    organisation = writes.organisations.get(plan.organisation_id)
    if organisation is None:
        organisation = writes.organisations[plan.organisation_id] = Organisation(pk=plan.organisation_id)
    event = NewEvent(
        event_type=transition.event,
        organisation=organisation,
        event_time=act.event_time,
        batch=batch,
        user=act.user,
        site=plan.site,
        location=act.location,
        quantity_kg=act.weight_kg,
        flags=plan.flags,
        data=plan.data,
    )
    writes.events.append((index, event))


def _flush(user, writes: _Writes) -> list[LedgerEntry]:
    """Every write in one statement per table."""
    if not writes.events:
        return []
    now = timezone.now()
    batches = sorted(writes.batches.values(), key=lambda b: b.pk)
    for batch in batches:
        batch.updated_at = now
    parties = sorted(writes.parties)
    if connection.vendor == "postgresql":
        _batches_and_parties_write(batches, parties)
    else:
        Batch.objects.bulk_update(batches, [name for name, _cast in _BATCH_WRITTEN], batch_size=1000)
        BatchParty.objects.bulk_create(
            [BatchParty(batch_id=b, organisation_id=o) for b, o in parties], ignore_conflicts=True
        )
    if writes.carrier_signs:
        # The carrier signs its part by scanning at pickup (once: compare-and-set).
        which = Q()
        for manifest_id, organisation_id in sorted(writes.carrier_signs):
            which |= Q(manifest_id=manifest_id, organisation_id=organisation_id)
        ManifestCarrier.objects.filter(which, signed_at__isnull=True).update(signed_at=now, signed_by=user)
    if writes.in_transit:
        Manifest.objects.filter(pk__in=sorted(writes.in_transit), status=ManifestStatus.SEALED).update(
            status=ManifestStatus.IN_TRANSIT
        )
    if writes.lines:
        lines = sorted(writes.lines.values(), key=lambda line: line.pk)
        ManifestLine.objects.bulk_update(lines, ["received_kg", "refused_kg", "refusal_reason"], batch_size=1000)
    return ledger_append(events=[event for _key, event in writes.events])


_BATCH_WRITTEN = (
    ("status", "varchar"),
    ("holder", "bigint"),
    ("carrier", "bigint"),
    ("current_site", "bigint"),
    ("last_weight_kg", "numeric"),
    ("updated_at", "timestamptz"),
)


def _batches_and_parties_write(batches: list[Batch], parties: list[tuple[int, int]]) -> None:
    """The batches' new state and their new parties in ONE raw statement for any number of batches,
    each column bound as one array and unnested (9 parameters however many rows): on the hot path
    the ORM's bulk_update (a CASE per column and row) and bulk_create, and even a VALUES list with a
    placeholder per value (which psycopg parses and binds one by one), cost more CPU than
    PostgreSQL spends on the writes."""
    columns = ", ".join(f"{name}_id" if cast == "bigint" else name for name, cast in _BATCH_WRITTEN)
    arrays = ", ".join(["%s::bigint[]"] + [f"%s::{cast}[]" for _name, cast in _BATCH_WRITTEN])
    sets = ", ".join(f"{c} = v.{c}" for c in columns.split(", "))
    rows = [
        (b.pk, b.status, b.holder_id, b.carrier_id, b.current_site_id, b.last_weight_kg, b.updated_at) for b in batches
    ]
    params = [list(column) for column in zip(*rows, strict=True)]
    params += [[b for b, _o in parties], [o for _b, o in parties]]
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH u AS (UPDATE waste_batch b SET {sets} FROM unnest({arrays}) AS v(id, {columns})"
            " WHERE b.id = v.id)"
            " INSERT INTO waste_batchparty (batch_id, organisation_id)"
            " SELECT * FROM unnest(%s::bigint[], %s::bigint[]) ON CONFLICT DO NOTHING",
            params,
        )


def batch_transition(*, batch: Batch, act: Act) -> LedgerEntry:
    """Applies one lifecycle action to a locked batch and appends its event. Caller holds the transaction."""
    [outcome] = transitions_apply(user=act.user, items=[(batch, act)])
    if outcome.error is not None:
        raise outcome.error
    return outcome.entry


@transaction.atomic
def batch_act(*, code: str, act: Act) -> tuple[Batch, LedgerEntry]:
    if act.action not in TRANSITIONS:
        raise AppError.field("action", _("Unknown action %(action)r.") % {"action": act.action})
    act.event_time = event_time_check(act.event_time, "event_time")
    batch = batch_get(code, lock=True)
    return batch, batch_transition(batch=batch, act=act)
