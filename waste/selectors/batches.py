"""Reads for batches: lineage, trace graph from origins to fates, events."""

from __future__ import annotations

from decimal import Decimal

from django.utils.translation import gettext as _

from waste.codes import batch_code_normalise, batch_code_valid
from waste.errors import AppError, NotFound
from waste.models import Batch, BatchLink, LedgerEntry, ManifestCarrier, ManifestLine, ManifestStatus
from waste.scoping import visible_to

ACTIVE_MANIFEST = (ManifestStatus.SEALED, ManifestStatus.IN_TRANSIT)
OPEN_MANIFEST = (ManifestStatus.DRAFT, *ACTIVE_MANIFEST)


def batch_code_check(code: str, *, field: str = "code") -> str:
    """The canonical form of a typed or scanned code, or a refusal naming the field."""
    canonical = batch_code_normalise(code)
    if not batch_code_valid(canonical):
        raise AppError.field(field, _("Not a batch code, or its check character is wrong."), code="invalid_code")
    return canonical


def batch_get(code: str, *, field: str = "code", lock: bool = False) -> Batch:
    canonical = batch_code_check(code, field=field)
    queryset = Batch.objects.select_for_update() if lock else Batch.objects
    batch = queryset.filter(code=canonical).first()
    if batch is None:
        raise NotFound.field(field, _("No batch with this code."), code="unknown_batch")
    return batch


def batches_locked(codes: list[str]) -> dict[str, Batch]:
    """The batches with these (canonical) codes, locked in one statement in primary-key order, so
    that any two writers locking overlapping sets wait for each other instead of deadlocking. Their
    sites are not joined: a thousand batches at one depot would build and parse its geometry a
    thousand times (waste.selectors.acts reads each site once)."""
    rows = Batch.objects.select_for_update(of=("self",)).filter(code__in=set(codes)).order_by("pk")
    return {b.code: b for b in rows}


def active_manifest_line(batch: Batch, *, drafts: bool = False) -> ManifestLine | None:
    """The line of the batch's open manifest (signed by its consignor; or still a draft if ``drafts``)."""
    return open_manifest_lines([batch.pk], drafts=drafts).get(batch.pk)


def open_manifest_lines(batch_ids: list[int], *, drafts: bool = True) -> dict[int, ManifestLine]:
    """Each batch's line on its open (current-version) manifest, with the manifest (one object per
    manifest) and its carriers in order (``line.manifest.carrier_rows``): two statements for any
    number of batches."""
    # Destination sites are not joined: one geometry per line otherwise (waste.selectors.acts reads
    # each site once).
    lines = (
        ManifestLine.objects.select_related("manifest")
        .filter(
            batch_id__in=batch_ids,
            manifest__status__in=OPEN_MANIFEST if drafts else ACTIVE_MANIFEST,
            manifest__correction__isnull=True,
        )
        .order_by("manifest__created_at")
    )
    by_batch = {line.batch_id: line for line in lines}  # the newest open manifest wins
    manifests = {line.manifest_id: line.manifest for line in by_batch.values()}
    for line in by_batch.values():
        line.manifest = manifests[line.manifest_id]  # one object per manifest, shared by its lines
    for manifest in manifests.values():
        manifest.carrier_rows = []
    if manifests:
        for carrier in ManifestCarrier.objects.filter(manifest_id__in=manifests).order_by("manifest_id", "order"):
            manifests[carrier.manifest_id].carrier_rows.append(carrier)
    return by_batch


def batch_list(*, user):
    return visible_to(Batch.objects.select_related("waste", "waste__catalog", "origin_site", "organisation"), user)


def batch_visible_get(*, user, code: str) -> Batch:
    """The batch with ``code`` the user may see; a malformed code is a 400, an invisible one a 404."""
    batch = batch_list(user=user).filter(code=batch_code_check(code)).first()
    if batch is None:
        raise NotFound.field("code", _("No batch with this code."), code="not_found")
    return batch


def batch_list_by_codes(*, user, codes: list[str], field: str = "batches") -> list[Batch]:
    """The visible batches named by ``codes``, in order; the first bad one is refused under ``field.i``."""
    batches = []
    for i, code in enumerate(codes):
        batch = batch_list(user=user).filter(code=batch_code_check(code, field=f"{field}.{i}")).first()
        if batch is None:
            raise AppError.field(f"{field}.{i}", _("No batch with this code."), code="unknown_batch", status=404)
        batches.append(batch)
    return batches


def batch_events(batch: Batch):
    return LedgerEntry.objects.filter(batch=batch).select_related("organisation", "site").order_by("event_time", "id")


def _walk(start: Batch, step) -> set[int]:
    seen, frontier = {start.pk}, [start.pk]
    while frontier:
        frontier = [pk for pk in step(frontier) if pk not in seen]
        seen.update(frontier)
    return seen


def batch_trace(batch: Batch) -> dict:
    """The lineage graph through ``batch``: every origin, every descendant, and the final fates.

    Fates flow back: each origin is credited with its share of every fate reached downstream,
    in proportion to the quantities on the links.
    """
    ancestors = _walk(batch, lambda pks: BatchLink.objects.filter(child_id__in=pks).values_list("parent_id", flat=True))
    roots = {pk for pk in ancestors if not BatchLink.objects.filter(child_id=pk).exists()}
    nodes: set[int] = set(ancestors)
    for root in roots:
        nodes |= _walk(
            Batch(pk=root), lambda pks: BatchLink.objects.filter(parent_id__in=pks).values_list("child_id", flat=True)
        )
    batches = {b.pk: b for b in Batch.objects.filter(pk__in=nodes).select_related("waste")}
    links = list(BatchLink.objects.filter(parent_id__in=nodes, child_id__in=nodes))
    outgoing: dict[int, list[BatchLink]] = {}
    for link in links:
        outgoing.setdefault(link.parent_id, []).append(link)

    def fates(pk: int, share: Decimal) -> list[dict]:
        node = batches[pk]
        if node.final_operation:
            return [{"batch": node.code, "operation": node.final_operation, "quantity_kg": share}]
        children = outgoing.get(pk, [])
        total = sum((link.quantity_kg for link in children), Decimal(0))
        out = []
        for link in children:
            # A consolidated batch passes all of its share on; a split or treated one divides it.
            portion = share if node.status == "consolidated" else share * link.quantity_kg / total
            out.extend(fates(link.child_id, portion))
        return out

    origins = []
    for root in sorted(roots):
        node = batches[root]
        found = fates(root, node.last_weight_kg or node.quantity_kg)
        origins.append(
            {
                "batch": node.code,
                "quantity_kg": str(node.quantity_kg),
                "fates": [{**f, "quantity_kg": str(f["quantity_kg"].quantize(Decimal("0.001")))} for f in found],
                "pending_kg": str(
                    (
                        (node.last_weight_kg or node.quantity_kg) - sum((f["quantity_kg"] for f in found), Decimal(0))
                    ).quantize(Decimal("0.001"))
                ),
            }
        )
    return {
        "batch": batch.code,
        "nodes": [
            {
                "code": b.code,
                "status": b.status,
                "waste_code": b.waste.display_code,
                "quantity_kg": str(b.quantity_kg),
                "final_operation": b.final_operation or None,
                "origin": b.pk in roots,
            }
            for b in sorted(batches.values(), key=lambda b: b.pk)
        ],
        "edges": [
            {
                "from": batches[lk.parent_id].code,
                "to": batches[lk.child_id].code,
                "kind": lk.kind,
                "quantity_kg": str(lk.quantity_kg),
            }
            for lk in links
        ],
        "origins": origins,
    }
