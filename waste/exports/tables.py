"""Projections of the ledger into the registers the law asks for, each row tied to one ledger entry.

- ``hj1259``: the five HJ 1259 tables of one enterprise (generation 产生, storage in 入库, storage out 出库,
  own utilisation/disposal 自行利用处置, outsourced utilisation/disposal 委托利用处置), linked by batch codes;
- ``register``: for an enterprise, the chronological record of WFD Art. 35 (quantity, nature, origin,
  destination, mode of transport, treatment); for a regulator, the same for every movement and
  treatment located inside its jurisdiction;
- ``events``: the raw ledger entries.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from django.db.models import Q
from django.utils import timezone

from waste import ledger
from waste.models import LedgerEntry, Manifest, ManifestLine, Organisation
from waste.services.ledger import entry_fields
from waste.verify import ENTRY_COLUMNS

# The five record tables of HJ 1259-2022, named as the standard names them, English beside.
HJ1259_TABLES = {
    "generation": "产生环节记录表 / Generation",
    "storage_in": "入库环节记录表 / Storage in",
    "storage_out": "出库环节记录表 / Storage out",
    "own_treatment": "自行利用处置环节记录表 / Own utilisation and disposal",
    "outsourced": "委托利用处置环节记录表 / Outsourced utilisation and disposal",
}
# XLSX sheet names hold at most 31 characters.
HJ1259_SHEETS = {
    "generation": "产生 Generation",
    "storage_in": "入库 Storage in",
    "storage_out": "出库 Storage out",
    "own_treatment": "自行利用处置 Own treatment",
    "outsourced": "委托利用处置 Outsourced",
}
DISPLAY = [
    "table",
    "date",
    "batch_code",
    "waste_code",
    "waste_name",
    "category",
    "hazardous",
    "quantity_kg",
    "quantity_source",
    "site",
    "organisation",
    "counterparty",
    "carrier",
    "manifest",
    "operation",
    "transport",
    "origin",
    "destination",
]
TABLE_COLUMNS = ["row", *DISPLAY, *ENTRY_COLUMNS]
EVENT_COLUMNS = ["row", *ENTRY_COLUMNS]
REGISTER_TYPES = ("generated", "picked_up", "received", "rejected", "treated", "consolidated", "split")
# Only the columns a PDF page can hold; the embedded proof carries every column.
PDF_COLUMNS = {
    "table": [
        "row",
        "date",
        "batch_code",
        "waste_code",
        "quantity_kg",
        "site",
        "counterparty",
        "manifest",
        "operation",
    ],
    "events": [
        "row",
        "entry_event_type",
        "entry_event_time",
        "entry_batch_code",
        "entry_quantity_kg",
        "entry_organisation_id",
        "entry_site_id",
    ],
}


@dataclass
class Scope:
    organisation: Organisation | None
    areas: list  # jurisdiction polygons, when organisation is None

    def q(self, *paths: str) -> Q:
        q = Q(pk__in=[])
        for area in self.areas:
            for path in paths:
                q |= Q(**{f"{path}__intersects": area})
        return q


def columns_for(kind: str) -> list[str]:
    return EVENT_COLUMNS if kind == "events" else TABLE_COLUMNS


def period(date_from, date_to) -> tuple[datetime, datetime]:
    tz = timezone.get_current_timezone()
    return (
        datetime.combine(date_from, time.min, tzinfo=tz),
        datetime.combine(date_to + timedelta(days=1), time.min, tzinfo=tz),
    )


def entries(date_from, date_to):
    start, end = period(date_from, date_to)
    return LedgerEntry.objects.filter(event_time__gte=start, event_time__lt=end).order_by("event_time", "id")


def events_queryset(scope: Scope, date_from, date_to):
    if scope.organisation is not None:
        org = scope.organisation
        ids = LedgerEntry.objects.filter(Q(organisation=org) | Q(batch__organisation=org)).values("pk")
        return entries(date_from, date_to).filter(pk__in=ids)
    return entries(date_from, date_to).filter(scope.q("site__location", "location"))


class Manifests:
    """Manifest facts by number (latest version), looked up once each."""

    def __init__(self) -> None:
        self.cache: dict[str, dict] = {}

    def get(self, number: str | None) -> dict:
        if not number:
            return {}
        if number not in self.cache:
            m = (
                Manifest.objects.filter(number=number, correction__isnull=True)
                .select_related("consignor", "receiver", "from_site", "to_site")
                .order_by("-version")
                .first()
            )
            self.cache[number] = (
                {}
                if m is None
                else {
                    "consignor_id": m.consignor_id,
                    "receiver": m.receiver.name,
                    "to_site": m.to_site.name,
                    "from_site": m.from_site.name,
                    "carriers": "; ".join(
                        c.organisation.name for c in m.carriers.select_related("organisation").order_by("order")
                    ),
                    "lines": {line.batch_id: line.quantity_kg for line in ManifestLine.objects.filter(manifest=m)},
                }
            )
        return self.cache[number]


def _display(table: str, entry: LedgerEntry, manifests: Manifests) -> dict:
    data = json.loads(entry.data)
    batch = entry.batch
    waste = batch.waste if batch is not None else None
    manifest = manifests.get(data.get("manifest"))
    quantity, source = ledger.text_decimal(entry.quantity_kg), "ledger"
    if entry.quantity_kg is None and batch is not None:
        line_kg = manifest.get("lines", {}).get(batch.pk) if manifest else None
        quantity = ledger.text_decimal(line_kg or batch.last_weight_kg or batch.quantity_kg)
        source = "manifest" if line_kg else "batch"
    site = entry.site.name if entry.site_id else ""
    operation = data.get("operation", "")
    if table == "outsourced" and batch is not None:
        operation = batch.final_operation
    return {
        "table": table,
        "date": timezone.localtime(entry.event_time).date().isoformat(),
        "batch_code": entry.batch_code,
        "waste_code": waste.display_code if waste else "",
        "waste_name": waste.name if waste else "",
        "category": (waste.parent_code or waste.code) if waste else "",
        "hazardous": ("是 / yes" if waste.is_hazardous else "否 / no") if waste else "",
        "quantity_kg": quantity,
        "quantity_source": source,
        "site": site,
        "organisation": entry.organisation.name,
        "counterparty": manifest.get("receiver", ""),
        "carrier": manifest.get("carriers", ""),
        "manifest": data.get("manifest", ""),
        "operation": operation,
        "transport": "公路 / road" if manifest else "",
        "origin": manifest.get("from_site", site if entry.event_type in ("generated", "treated") else ""),
        "destination": manifest.get("to_site", ""),
    }


def _related(queryset):
    return queryset.select_related("batch__waste", "site", "organisation")


def _consigned_pickups(org: Organisation, base):
    """Pickups of the batches an enterprise handed over, on manifests it signed as consignor."""
    numbers = set(Manifest.objects.filter(consignor=org).values_list("number", flat=True))
    batch_ids = ManifestLine.objects.filter(manifest__consignor=org).values("batch_id")
    for entry in _related(base.filter(event_type="picked_up", batch_id__in=batch_ids)).iterator(chunk_size=2000):
        if json.loads(entry.data).get("manifest") in numbers:
            yield entry


def hj1259_entries(scope: Scope, date_from, date_to):
    """(table, entry) for the five tables of one enterprise, table by table, each by time."""
    org = scope.organisation
    base = entries(date_from, date_to)
    for table, event_type in (
        ("generation", "generated"),
        ("storage_in", "stored"),
        ("storage_out", "released"),
        ("own_treatment", "treated"),
    ):
        for entry in _related(base.filter(organisation=org, event_type=event_type)).iterator(chunk_size=2000):
            yield table, entry
    for entry in _consigned_pickups(org, base):
        yield "outsourced", entry


def register_entries(scope: Scope, date_from, date_to):
    base = entries(date_from, date_to).filter(event_type__in=REGISTER_TYPES)
    if scope.organisation is None:
        for entry in _related(base.filter(scope.q("site__location", "location"))).iterator(chunk_size=2000):
            yield "register", entry
        return
    org = scope.organisation
    own = _related(base.filter(organisation=org)).iterator(chunk_size=2000)
    handed = _consigned_pickups(org, base)
    # Both are ordered by (event_time, id): merge them into one chronological record.
    import heapq

    seen = set()
    for entry in heapq.merge(own, handed, key=lambda e: (e.event_time, e.pk)):
        if entry.pk not in seen:
            seen.add(entry.pk) if entry.event_type == "picked_up" else None
            yield "register", entry


def rows(kind: str, scope: Scope, date_from, date_to):
    """(table, entry, values without the row number) in export order."""
    if kind == "events":
        for entry in events_queryset(scope, date_from, date_to).iterator(chunk_size=5000):
            yield "events", entry, [*entry_fields(entry), entry.hash]
        return
    manifests = Manifests()
    source = hj1259_entries if kind == "hj1259" else register_entries
    for table, entry in source(scope, date_from, date_to):
        display = _display(table, entry, manifests)
        yield table, entry, [display[c] for c in DISPLAY] + [*entry_fields(entry), entry.hash]


def hj1259_tables(*, organisation: Organisation, date_from, date_to, limit: int = 200) -> dict[str, dict]:
    """The five HJ 1259 tables of one enterprise for reading on screen: per table (in HJ 1259 order)
    its first ``limit`` rows (display columns) and whether more exist; the export job carries them all."""
    tables = {table: {"rows": [], "more": False} for table in HJ1259_TABLES}
    manifests = Manifests()
    for table, entry in hj1259_entries(Scope(organisation=organisation, areas=[]), date_from, date_to):
        if len(tables[table]["rows"]) >= limit:
            tables[table]["more"] = True
            continue
        tables[table]["rows"].append(_display(table, entry, manifests))
    return tables
