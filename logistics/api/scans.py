"""Scans from haulers' and sites' devices: single (with Idempotency-Key) and bulk offline uploads.

Each view validates, calls one service (logistics.services.scans) through the idempotency
wrapper, and renders; the service applies the scan in one transaction.
"""

from __future__ import annotations

import re
from datetime import datetime
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import ISO_8601, serializers
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from logistics.services.scans import MAX_BULK, Scan, scan_record, scans_record
from waste.api.errors import flatten
from waste.api.fields import CheckedGeometryField
from waste.api.schema import IDEMPOTENCY_KEY
from waste.errors import AppError
from waste.lifecycle import SCAN_ACTIONS
from waste.services.idempotency import MAX_KEY_LENGTH, Answer, Keyed, idempotent_call, idempotent_many
from waste.services.transitions import Outcome


class ScanInput(serializers.Serializer):
    code = serializers.CharField(max_length=20, required=False)
    qr = serializers.CharField(max_length=300, required=False)
    action = serializers.ChoiceField(SCAN_ACTIONS)
    site = serializers.IntegerField(min_value=1, required=False)
    organisation = serializers.IntegerField(min_value=1, required=False)
    location = CheckedGeometryField("Point", required=False)
    weight_kg = serializers.DecimalField(max_digits=12, decimal_places=3, required=False)
    scanned_at = serializers.DateTimeField()
    device_id = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    reason = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")

    def validate(self, attrs):
        if bool(attrs.get("code")) == bool(attrs.get("qr")):
            raise serializers.ValidationError({"code": [_("Give either code or qr.")]})
        if attrs.get("qr"):
            attrs["code"] = code_from_qr(attrs["qr"])
        return attrs


def code_from_qr(payload: str) -> str:
    expected = urlsplit(settings.PUBLIC_BASE_URL)
    url = urlsplit(payload.strip())
    if (url.scheme, url.netloc) != (expected.scheme, expected.netloc):
        raise serializers.ValidationError({"qr": [_("This QR code was not issued by this system.")]})
    parts = [p for p in url.path.split("/") if p]
    if len(parts) != 2 or parts[0] != "t":
        raise serializers.ValidationError({"qr": [_("Not a batch label QR code.")]})
    return parts[1]


class ScanOutput(serializers.Serializer):
    status = serializers.CharField()
    batch = serializers.DictField()
    event = serializers.DictField()


# The service speaks the domain; the client sent these fields under their HTTP names.
HTTP_FIELDS = {"event_time": "scanned_at"}


def http_error(exc: AppError) -> AppError:
    exc.fields = {HTTP_FIELDS.get(path, path): messages for path, messages in exc.fields.items()}
    return exc


def scan_of(values: dict) -> Scan:
    return Scan(
        code=values["code"],
        action=values["action"],
        event_time=values["scanned_at"],
        site_id=values.get("site"),
        organisation_id=values.get("organisation"),
        location=values.get("location"),
        weight_kg=values.get("weight_kg"),
        device_id=values.get("device_id", ""),
        reason=values.get("reason", ""),
    )


def scan_answer(outcome: Outcome) -> dict:
    entry = outcome.entry
    return {
        "status": "created",
        "batch": {"code": outcome.batch.code, "status": outcome.status},
        "event": {
            "id": entry.pk,
            "event_id": str(entry.event_id),
            "event_type": entry.event_type,
            "flags": [f for f in entry.flags.split(",") if f],
            "hash": entry.hash,
            "event_time": entry.event_time.isoformat(),
        },
    }


def refusal(index: int, exc: AppError) -> dict:
    exc = http_error(exc)
    return {
        "index": index,
        "status": "rejected",
        "error": {"code": exc.code, "message": str(exc.message), "fields": exc.fields},
    }


class ScanApi(APIView):
    @extend_schema(
        request=ScanInput,
        responses={201: ScanOutput, 200: ScanOutput},
        parameters=[IDEMPOTENCY_KEY],
    )
    def post(self, request):
        data = ScanInput(data=request.data)
        data.is_valid(raise_exception=True)
        scan = scan_of(data.validated_data)
        try:
            status, body, replayed = idempotent_call(
                user=request.user,
                scope="scan",
                key=request.headers.get("Idempotency-Key"),
                body=request.data,
                handler=lambda: (201, scan_answer(scan_record(user=request.user, scan=scan))),
            )
        except AppError as exc:
            raise http_error(exc) from None
        if replayed:
            body = {**body, "status": "duplicate"}
            status = 200
        return Response(body, status=status)


class BulkItemInput(ScanInput):
    idempotency_key = serializers.CharField(max_length=MAX_KEY_LENGTH)


class BulkScanApi(APIView):
    ItemSerializer = BulkItemInput

    class InputSerializer(serializers.Serializer):
        scans = serializers.ListField(child=serializers.DictField(), min_length=1, max_length=MAX_BULK)

    @extend_schema(request=InputSerializer, responses={200: OpenApiTypes.OBJECT})
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        items = data.validated_data["scans"]
        results: list[dict | None] = [None] * len(items)
        valid: list[tuple[int, Scan]] = []
        keyed: list[Keyed] = []
        # One serializer, and only for the items the fast pass does not take: DRF deep-copies a
        # serializer's fields per instance and runs every field's validators per item, which cost
        # more than the rest of a bulk upload's work.
        item = self.ItemSerializer()
        for index, raw in enumerate(items):
            values = bulk_item_fast(raw)
            if values is None:
                try:
                    values = item.run_validation(raw)
                except serializers.ValidationError as exc:
                    results[index] = {
                        "index": index,
                        "status": "rejected",
                        "error": {"code": "invalid", "message": _("Invalid scan."), "fields": flatten(exc.detail)},
                    }
                    continue
            valid.append((index, scan_of(values)))
            keyed.append(Keyed(key=values["idempotency_key"], body=_without_key(raw)))

        def run(positions: list[int]) -> list[Answer]:
            outcomes = scans_record(user=request.user, scans=[valid[p][1] for p in positions])
            return [
                Answer(status=o.error.status, body={}, error=o.error)
                if o.error is not None
                else Answer(status=201, body=scan_answer(o))
                for o in outcomes
            ]

        answers = idempotent_many(user=request.user, scope="scan", items=keyed, handler=run) if keyed else []
        for (index, _scan), answer in zip(valid, answers, strict=True):
            if answer.error is not None:
                results[index] = refusal(index, answer.error)
            else:
                results[index] = {
                    "index": index,
                    "status": "duplicate" if answer.replayed else "created",
                    "batch": answer.body["batch"],
                    "event": answer.body["event"],
                }
        summary = {s: sum(1 for r in results if r["status"] == s) for s in ("created", "duplicate", "rejected")}
        return Response({"summary": summary, "results": results})


# The fast pass over a bulk item. Written by hand (a comment owed by the house rules): it accepts
# only what BulkItemInput would accept unchanged, with the same values out, and answers None for
# anything else, which the serializer then validates, so that every refusal still comes from DRF,
# names its field and speaks the user's language. A well-formed item costs a tenth of the serializer.
_FIELDS = BulkItemInput().fields
_TEXT = {name: _FIELDS[name].max_length for name in ("code", "qr", "device_id", "reason", "idempotency_key")}
_MAY_BE_BLANK = {name for name in _TEXT if _FIELDS[name].allow_blank}
_UNSAFE_TEXT = re.compile("[\x00\ud800-\udfff]")  # DRF's null and surrogate validators refuse these
_ACTIONS = _FIELDS["action"].choice_strings_to_values
_IDS = ("site", "organisation")
_ISO_ONLY = list(getattr(_FIELDS["scanned_at"], "input_formats", None) or api_settings.DATETIME_INPUT_FORMATS) == [
    ISO_8601
]


def bulk_item_fast(raw) -> dict | None:
    """BulkItemInput's validated values for a well-formed item, or None: let the serializer decide."""
    if type(raw) is not dict or "action" not in raw or "scanned_at" not in raw or "idempotency_key" not in raw:
        return None
    values = {"device_id": "", "reason": ""}
    for name, value in raw.items():
        if name in _TEXT:
            if (
                type(value) is not str
                or len(value) > _TEXT[name]
                or value != value.strip()
                or (not value and name not in _MAY_BE_BLANK)
                or _UNSAFE_TEXT.search(value)
            ):
                return None
            values[name] = value
        elif name == "action":
            if type(value) is not str or value not in _ACTIONS:
                return None
            values[name] = _ACTIONS[value]
        elif name in _IDS:
            if type(value) is not int or value < 1:
                return None
            values[name] = value
        elif name == "location":
            if type(value) is not dict or len(value) != 2 or "type" not in value or "coordinates" not in value:
                return None
            values[name] = _FIELDS["location"]._plain_point(value)
            if values[name] is None:
                return None
        elif name == "scanned_at":
            values[name] = _when(value)
            if values[name] is None:
                return None
        elif name == "weight_kg":
            try:
                values[name] = _FIELDS["weight_kg"].run_validation(value)
            except serializers.ValidationError:
                return None
        # Other keys: ignored, as the serializer ignores them.
    if bool(values.get("code")) == bool(values.get("qr")):
        return None
    if values.get("qr"):
        try:
            values["code"] = code_from_qr(values["qr"])
        except serializers.ValidationError:
            return None
    return values


def _when(value) -> datetime | None:
    """As DRF's DateTimeField reads an ISO 8601 string (Django's parse_datetime, then the current
    time zone), or None."""
    if not _ISO_ONLY or type(value) is not str:
        return None
    try:
        parsed = parse_datetime(value)
        return None if parsed is None else _FIELDS["scanned_at"].enforce_timezone(parsed)
    except (ValueError, TypeError, serializers.ValidationError):
        return None


def _without_key(raw: dict) -> dict:
    return {k: v for k, v in raw.items() if k != "idempotency_key"}
