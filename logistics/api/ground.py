"""Ground control: vehicle positions (one or a thousand), tracks, the live fleet, sites' devices and
their readings. Each write view validates, calls one service, renders."""

from __future__ import annotations

import datetime
import math

from django.http import HttpResponse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import generics, serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from logistics import selectors
from logistics.api.common import site as visible_site
from logistics.models import Device, DeviceKind, Reading, WasteClass
from logistics.services.positions import MAX_BULK, Fix, FixOutcome, position_record, positions_record
from logistics.services.telemetry import ReadingIn, device_register, reading_record
from waste.api.fields import CheckedGeometryField
from waste.errors import AppError
from waste.geo import in_world
from waste.scoping import visible_to

MAX_TRACK_DAYS = 31


class PositionInput(serializers.Serializer):
    vehicle = serializers.IntegerField(min_value=1)
    time = serializers.DateTimeField()
    point = CheckedGeometryField("Point")
    speed = serializers.FloatField(required=False, allow_null=True, default=None, help_text="km/h")
    heading = serializers.FloatField(required=False, allow_null=True, default=None, help_text="degrees from north")
    odometer = serializers.FloatField(required=False, allow_null=True, default=None, help_text="km")


class PositionOutput(serializers.Serializer):
    status = serializers.ChoiceField(["created", "flagged", "duplicate"])
    flags = serializers.ListField(child=serializers.CharField())


def fix_of(values: dict) -> Fix:
    return Fix(
        vehicle_id=values["vehicle"],
        time=values["time"],
        lon=values["point"].x,
        lat=values["point"].y,
        speed_kmh=values.get("speed"),
        heading=values.get("heading"),
        odometer_km=values.get("odometer"),
    )


REQUIRED = serializers.Field.default_error_messages["required"]
NOT_INTEGER = serializers.IntegerField.default_error_messages["invalid"]
NOT_NUMBER = serializers.FloatField.default_error_messages["invalid"]
NOT_DATETIME = _lazy("Give a date and time with its time zone, e.g. 2026-11-22T09:30:00+08:00.")


def _number(value) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ValueError
    number = float(value)
    if not math.isfinite(number):
        raise ValueError
    return number


def position_parse(raw) -> tuple[Fix | None, dict[str, list[str]]]:
    """A bulk item to a Fix, or its errors by field, as PositionInput would answer them. Written by
    hand because a DRF serializer per item cost about three quarters of a 1,000-point upload
    (``manage.py bench positions``); the single endpoint keeps the serializer. Same fields, same checks."""
    if not isinstance(raw, dict):
        return None, {"": [str(_("Invalid position."))]}
    errors: dict[str, list[str]] = {}
    vehicle = raw.get("vehicle")
    if vehicle is None:
        errors["vehicle"] = [str(REQUIRED)]
    elif isinstance(vehicle, bool) or not str(vehicle).isdigit() or int(vehicle) < 1:
        errors["vehicle"] = [str(NOT_INTEGER)]
    when = raw.get("time")
    moment = parse_datetime(when) if isinstance(when, str) else None
    if when is None:
        errors["time"] = [str(REQUIRED)]
    elif moment is None:
        errors["time"] = [str(NOT_DATETIME)]
    elif timezone.is_naive(moment):  # as DRF's DateTimeField: the current time zone
        moment = timezone.make_aware(moment)
    lon = lat = None
    geometry = raw.get("point")
    if geometry is None:
        errors["point"] = [str(REQUIRED)]
    elif (
        not isinstance(geometry, dict)
        or geometry.get("type") != "Point"
        or not isinstance(geometry.get("coordinates"), list)
    ):
        errors["point"] = [_("Expected a GeoJSON geometry object with type and coordinates.")]
    elif len(geometry["coordinates"]) != 2:
        errors["point"] = [_("Expected 2D coordinates [lon, lat], without height.")]
    else:
        try:
            lon, lat = (_number(c) for c in geometry["coordinates"])
        except (TypeError, ValueError):
            errors["point"] = [_("Expected a GeoJSON geometry object with type and coordinates.")]
        else:
            if not in_world(lon, lat):
                errors["point"] = [_("Coordinates are outside the world (lon -180..180, lat -90..90).")]
    optional = {}
    for name in ("speed", "heading", "odometer"):
        try:
            optional[name] = None if raw.get(name) is None else _number(raw[name])
        except (TypeError, ValueError):
            errors[name] = [str(NOT_NUMBER)]
    if errors:
        return None, errors
    fix = Fix(
        vehicle_id=int(vehicle),
        time=moment,
        lon=lon,
        lat=lat,
        speed_kmh=optional["speed"],
        heading=optional["heading"],
        odometer_km=optional["odometer"],
    )
    return fix, {}


def fix_answer(outcome: FixOutcome) -> dict:
    status = "flagged" if outcome.status == "created" and outcome.flags else outcome.status
    return {"status": status, "flags": outcome.flags}


class PositionApi(APIView):
    @extend_schema(request=PositionInput, responses={201: PositionOutput, 200: PositionOutput})
    def post(self, request):
        data = PositionInput(data=request.data)
        data.is_valid(raise_exception=True)
        outcome = position_record(user=request.user, fix=fix_of(data.validated_data))
        return Response(fix_answer(outcome), status=200 if outcome.status == "duplicate" else 201)


class PositionItems(serializers.ListField):
    """A list of position objects, each checked by position_parse (which answers a non-object item by
    its index): DRF's per-item DictField copied every item for nothing (``bench positions``)."""

    def run_child_validation(self, data):
        return data


class BulkPositionApi(APIView):
    class InputSerializer(serializers.Serializer):
        positions = PositionItems(child=serializers.DictField(), min_length=1, max_length=MAX_BULK)

    @extend_schema(
        request=InputSerializer,
        responses={
            200: inline_serializer(
                "BulkPositionOutput",
                {
                    "summary": serializers.DictField(child=serializers.IntegerField()),
                    "results": serializers.ListField(child=serializers.JSONField()),
                },
            )
        },
    )
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        items = data.validated_data["positions"]
        results: list[dict | None] = [None] * len(items)
        valid: list[tuple[int, Fix]] = []
        for index, raw in enumerate(items):
            fix, errors = position_parse(raw)
            if fix is not None:
                valid.append((index, fix))
            else:
                results[index] = {
                    "index": index,
                    "status": "rejected",
                    "error": {"code": "invalid", "message": _("Invalid position."), "fields": errors},
                }
        outcomes = positions_record(user=request.user, fixes=[fix for _index, fix in valid]) if valid else []
        for (index, _fix), outcome in zip(valid, outcomes, strict=True):
            if outcome.error is not None:
                exc = outcome.error
                results[index] = {
                    "index": index,
                    "status": "rejected",
                    "error": {"code": exc.code, "message": str(exc.message), "fields": exc.fields},
                }
            else:
                results[index] = {"index": index, **fix_answer(outcome)}
        statuses = ("created", "flagged", "duplicate", "rejected")
        summary = {s: sum(1 for r in results if r["status"] == s) for s in statuses}
        return Response({"summary": summary, "results": results})


def _moment(request, name: str, default: datetime.datetime) -> datetime.datetime:
    raw = request.query_params.get(name)
    if not raw:
        return default
    value = parse_datetime(raw.replace(" ", "+"))  # a '+' in a query string arrives as a space
    if value is None or timezone.is_naive(value):
        raise AppError.field(name, _("Give a date and time with its time zone, e.g. 2026-11-22T09:30:00+08:00."))
    return value


class VehicleTrackApi(APIView):
    @extend_schema(
        parameters=[
            OpenApiParameter("from", str, description="ISO 8601 with time zone; default 24 h before 'to'"),
            OpenApiParameter("to", str, description="ISO 8601 with time zone; default now"),
        ],
        # A GeoJSON Feature (LineString): its shape is the GeoJSON standard's, not a serializer's.
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request, vehicle_id: int):
        vehicle = selectors.vehicle_get(user=request.user, vehicle_id=vehicle_id)
        end = _moment(request, "to", timezone.now())
        start = _moment(request, "from", end - datetime.timedelta(hours=24))
        if start >= end:
            raise AppError.field("from", _("Must be before 'to'."))
        if end - start > datetime.timedelta(days=MAX_TRACK_DAYS):
            raise AppError.field("from", _("Ask for at most %(days)d days at once.") % {"days": MAX_TRACK_DAYS})
        track = selectors.vehicle_track(vehicle=vehicle, start=start, end=end)
        points = track["points"]
        geometry = {"type": "LineString", "coordinates": [[x, y] for _t, x, y in points]} if len(points) >= 2 else None
        return Response(
            {
                "type": "Feature",
                "geometry": geometry,
                "properties": {
                    "vehicle": vehicle.pk,
                    "plate": vehicle.plate,
                    "from": start.isoformat(),
                    "to": end.isoformat(),
                    "points": len(points),
                    "times": [t.isoformat() for t, _x, _y in points],
                    # Points the vehicle could not have reached (impossible speed): kept, not drawn.
                    "flagged": track["flagged"],
                },
            }
        )


class FleetLiveApi(APIView):
    # A GeoJSON FeatureCollection of points: its shape is the GeoJSON standard's, not a serializer's.
    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    def get(self, request):
        # JSON made (or cached) by the selector: rendering it again per request would cost as much.
        return HttpResponse(selectors.fleet_live_json(user=request.user), content_type="application/json")


# --- Sites' devices ----------------------------------------------------------------------------------


class DeviceOutput(serializers.ModelSerializer):
    class Meta:
        model = Device
        fields = [
            "id",
            "identifier",
            "site",
            "kind",
            "label",
            "capacity_kg",
            "fill_threshold_pct",
            "waste_class",
            "waste_code",
            "active",
        ]


class DeviceListApi(generics.ListAPIView):
    serializer_class = DeviceOutput

    class InputSerializer(serializers.Serializer):
        identifier = serializers.CharField(max_length=100)
        site = serializers.IntegerField(min_value=1)
        kind = serializers.ChoiceField(DeviceKind.choices)
        label = serializers.CharField(max_length=100, required=False, default="", allow_blank=True)
        capacity_kg = serializers.DecimalField(
            max_digits=12, decimal_places=3, min_value=0, required=False, allow_null=True, default=None
        )
        fill_threshold_pct = serializers.IntegerField(
            min_value=1, max_value=200, required=False, allow_null=True, default=None
        )
        waste_class = serializers.ChoiceField(WasteClass.choices, required=False, default=WasteClass.GENERAL)
        waste_code = serializers.CharField(max_length=32, required=False, default="", allow_blank=True)

    def get_queryset(self):
        return visible_to(Device.objects.all(), self.request.user)

    @extend_schema(request=InputSerializer, responses={201: DeviceOutput})
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        values["site"] = visible_site(request.user, values["site"])
        device = device_register(user=request.user, **values)
        return Response(DeviceOutput(device).data, status=201)


class ReadingInput(serializers.Serializer):
    device = serializers.CharField(max_length=100)
    kind = serializers.ChoiceField(DeviceKind.choices)
    time = serializers.DateTimeField()
    fill_pct = serializers.DecimalField(max_digits=6, decimal_places=2, required=False, allow_null=True)
    fill_kg = serializers.DecimalField(max_digits=12, decimal_places=3, required=False, allow_null=True)
    gross_kg = serializers.DecimalField(max_digits=12, decimal_places=3, required=False, allow_null=True)
    tare_kg = serializers.DecimalField(max_digits=12, decimal_places=3, required=False, allow_null=True)
    net_kg = serializers.DecimalField(max_digits=12, decimal_places=3, required=False, allow_null=True)
    plate = serializers.CharField(max_length=20, required=False, default="", allow_blank=True)


class ReadingOutput(serializers.ModelSerializer):
    status = serializers.SerializerMethodField()
    device = serializers.CharField(source="device.identifier")
    flags = serializers.SerializerMethodField()

    class Meta:
        model = Reading
        fields = [
            "status",
            "id",
            "device",
            "kind",
            "time",
            "fill_pct",
            "fill_kg",
            "gross_kg",
            "tare_kg",
            "net_kg",
            "plate",
            "vehicle",
            "expected_kg",
            "pickup",
            "flags",
            "data",
        ]

    def get_status(self, reading) -> str:
        return self.context.get("status", "created")

    def get_flags(self, reading) -> list[str]:
        return [f for f in reading.flags.split(",") if f]


class ReadingApi(APIView):
    @extend_schema(request=ReadingInput, responses={201: ReadingOutput, 200: ReadingOutput})
    def post(self, request):
        data = ReadingInput(data=request.data)
        data.is_valid(raise_exception=True)
        reading, created = reading_record(user=request.user, reading=ReadingIn(**data.validated_data))
        status = "created" if created else "duplicate"
        return Response(ReadingOutput(reading, context={"status": status}).data, status=201 if created else 200)
