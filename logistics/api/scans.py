"""Scans from haulers' and sites' devices: single (with Idempotency-Key) and bulk offline uploads.

A scan calls waste's lifecycle service; it never writes ledger rows itself.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from logistics.services.trips import trip_stop_complete_for_scan
from waste.api.errors import flatten
from waste.api.fields import CheckedGeometryField
from waste.api.lookups import row_or_error
from waste.errors import AppError
from waste.lifecycle import SCAN_ACTIONS
from waste.models import Organisation, Site
from waste.services.batches import Act, batch_act
from waste.services.idempotency import idempotent_call

MAX_BULK = 1000


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
            raise serializers.ValidationError({"code": ["Give either code or qr."]})
        if attrs.get("qr"):
            attrs["code"] = code_from_qr(attrs["qr"])
        return attrs


def code_from_qr(payload: str) -> str:
    expected = urlsplit(settings.PUBLIC_BASE_URL)
    url = urlsplit(payload.strip())
    if (url.scheme, url.netloc) != (expected.scheme, expected.netloc):
        raise serializers.ValidationError({"qr": ["This QR code was not issued by this system."]})
    parts = [p for p in url.path.split("/") if p]
    if len(parts) != 2 or parts[0] != "t":
        raise serializers.ValidationError({"qr": ["Not a batch label QR code."]})
    return parts[1]


class ScanOutput(serializers.Serializer):
    status = serializers.CharField()
    batch = serializers.DictField()
    event = serializers.DictField()


def scan_apply(user, values: dict) -> tuple[int, dict]:
    act = Act(
        user=user,
        action=values["action"],
        event_time=values["scanned_at"],
        organisation=row_or_error(Organisation.objects, values.get("organisation"), "organisation"),
        site=row_or_error(Site.objects, values.get("site"), "site"),
        location=values.get("location"),
        weight_kg=values.get("weight_kg"),
        device_id=values.get("device_id", ""),
        reason=values.get("reason", ""),
    )
    batch, entry = batch_act(code=values["code"], act=act)
    if values["action"] == "pickup":
        # The carrier now holds the batch: its pending trip stop for it is done.
        trip_stop_complete_for_scan(batch_code=batch.code, organisation=batch.holder)
    return 201, {
        "status": "created",
        "batch": {"code": batch.code, "status": batch.status},
        "event": {
            "id": entry.pk,
            "event_id": str(entry.event_id),
            "event_type": entry.event_type,
            "flags": [f for f in entry.flags.split(",") if f],
            "hash": entry.hash,
            "event_time": entry.event_time.isoformat(),
        },
    }


class ScanApi(APIView):
    @extend_schema(
        request=ScanInput,
        responses={201: ScanOutput, 200: ScanOutput},
        parameters=[
            OpenApiParameter(
                "Idempotency-Key",
                str,
                OpenApiParameter.HEADER,
                description="retries with the same key and body return the first answer",
            )
        ],
    )
    def post(self, request):
        data = ScanInput(data=request.data)
        data.is_valid(raise_exception=True)
        key = request.headers.get("Idempotency-Key")
        status, body, replayed = idempotent_call(
            user=request.user,
            scope="scan",
            key=key,
            body=request.data,
            handler=lambda: scan_apply(request.user, data.validated_data),
        )
        if replayed:
            body = {**body, "status": "duplicate"}
            status = 200
        return Response(body, status=status)


class BulkScanApi(APIView):
    class ItemSerializer(ScanInput):
        idempotency_key = serializers.CharField(max_length=200)

    class InputSerializer(serializers.Serializer):
        scans = serializers.ListField(child=serializers.DictField(), min_length=1, max_length=MAX_BULK)

    @extend_schema(request=InputSerializer, responses={200: serializers.DictField()})
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        items = data.validated_data["scans"]
        results: list[dict | None] = [None] * len(items)
        valid = []
        for index, raw in enumerate(items):
            item = self.ItemSerializer(data=raw)
            if item.is_valid():
                valid.append((index, raw, item.validated_data))
            else:
                results[index] = {
                    "index": index,
                    "status": "rejected",
                    "error": {"code": "invalid", "message": "Invalid scan.", "fields": flatten(item.errors)},
                }
        # Offline devices upload late and out of order: apply in device-time order.
        valid.sort(key=lambda entry: (entry[2]["scanned_at"], entry[0]))
        for index, raw, values in valid:
            key = values.pop("idempotency_key")
            try:
                status, body, replayed = idempotent_call(
                    user=request.user,
                    scope="scan",
                    key=key,
                    body={k: v for k, v in raw.items() if k != "idempotency_key"},
                    handler=lambda values=values: scan_apply(request.user, values),
                )
                results[index] = {
                    "index": index,
                    "status": "duplicate" if replayed else "created",
                    "batch": body["batch"],
                    "event": body["event"],
                }
            except AppError as exc:
                results[index] = {
                    "index": index,
                    "status": "rejected",
                    "error": {"code": exc.code, "message": exc.message, "fields": exc.fields},
                }
        summary = {s: sum(1 for r in results if r["status"] == s) for s in ("created", "duplicate", "rejected")}
        return Response({"summary": summary, "results": results})
