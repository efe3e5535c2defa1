"""Ledger entries as GS1 EPCIS 2.0 JSON-LD events.

Generation and scans are ObjectEvents, consolidation an AggregationEvent, splitting and treatment
TransformationEvents. Batch identifiers are the batch's public URL (a GS1 Digital Link-style
URI); CBV 2.0 business steps and dispositions are used where one fits, product-specific terms
live under the ``zw:`` namespace.
"""

from __future__ import annotations

import json
from datetime import UTC

from django.conf import settings
from django.utils import timezone

from waste.labels import public_url

CBV = "https://ref.gs1.org/cbv/"
CONTEXT = ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld", {"zw": f"{settings.PUBLIC_BASE_URL}/voc/"}]

# event type -> (EPCIS type, action, bizStep, disposition)
MAPPING = {
    "generated": ("ObjectEvent", "ADD", "commissioning", "active"),
    "stored": ("ObjectEvent", "OBSERVE", "storing", "in_progress"),
    "released": ("ObjectEvent", "OBSERVE", "picking", "in_progress"),
    "picked_up": ("ObjectEvent", "OBSERVE", "loading", "in_transit"),
    "dropped_off": ("ObjectEvent", "OBSERVE", "unloading", "in_transit"),
    "received": ("ObjectEvent", "OBSERVE", "receiving", "in_progress"),
    "weighed": ("ObjectEvent", "OBSERVE", "inspecting", None),
    "rejected": ("ObjectEvent", "OBSERVE", "inspecting", "non_conformant"),
    "consolidated": ("AggregationEvent", "ADD", "packing", "in_progress"),
    "split": ("TransformationEvent", None, "repackaging", "in_progress"),
    "treated": ("TransformationEvent", None, "destroying", "destroyed"),
    "corrected": ("ObjectEvent", "OBSERVE", "inspecting", None),
}


def _epc(code: str) -> str:
    return public_url(code)


def event(entry) -> dict:
    kind, action, step, disposition = MAPPING[entry.event_type]
    data = json.loads(entry.data)
    out = {
        "type": kind,
        "eventID": f"urn:uuid:{entry.event_id}",
        "eventTime": entry.event_time.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "eventTimeZoneOffset": timezone.localtime(entry.event_time).strftime("%z")[:3]
        + ":"
        + timezone.localtime(entry.event_time).strftime("%z")[3:],
        "recordTime": entry.recorded_at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "bizStep": step,
        "zw:eventType": entry.event_type,
        "zw:ledgerHash": entry.hash,
        "zw:organisation": entry.organisation_id,
    }
    if disposition:
        out["disposition"] = disposition
    if entry.site_id:
        out["bizLocation"] = {"id": f"{settings.PUBLIC_BASE_URL}/sites/{entry.site_id}"}
    if entry.location is not None:
        out["readPoint"] = {"id": f"geo:{entry.location.y:.7f},{entry.location.x:.7f}"}
    quantity = (
        [{"epcClass": _epc(entry.batch_code), "quantity": float(entry.quantity_kg), "uom": "KGM"}]
        if entry.quantity_kg is not None
        else []
    )
    if kind == "ObjectEvent":
        out["action"] = action
        out["epcList"] = [_epc(entry.batch_code)]
        if quantity:
            out["quantityList"] = quantity
    elif kind == "AggregationEvent":
        out["action"] = action
        if "into" in data:  # this batch went into a larger one
            out["parentID"], out["childEPCs"] = _epc(data["into"]), [_epc(entry.batch_code)]
        else:
            out["parentID"], out["childEPCs"] = _epc(entry.batch_code), [_epc(c) for c in data.get("from", [])]
    else:
        if entry.event_type == "split":
            if "into" in data:
                out["inputEPCList"], out["outputEPCList"] = [_epc(entry.batch_code)], [_epc(c) for c in data["into"]]
            else:
                out["inputEPCList"], out["outputEPCList"] = [_epc(data["from"])], [_epc(entry.batch_code)]
        else:
            out["inputEPCList"] = [_epc(entry.batch_code)]
            out["outputEPCList"] = [_epc(c) for c in data.get("outputs", [])]
            out["zw:operation"] = data.get("operation")
            out["zw:finalFate"] = data.get("final")
            if not data.get("final"):
                out["bizStep"], out["disposition"] = "storing", "in_progress"
        if quantity:
            out["inputQuantityList"] = quantity
    for key in ("manifest", "device_id", "reason", "waste_code", "operation"):
        if key in data and f"zw:{key}" not in out:
            out[f"zw:{key}"] = data[key]
    if entry.flags:
        out["zw:flags"] = entry.flags.split(",")
    return out


def document(entries) -> dict:
    return {
        "@context": CONTEXT,
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": timezone.now().astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "epcisBody": {"eventList": [event(e) for e in entries if e.event_type in MAPPING]},
    }
