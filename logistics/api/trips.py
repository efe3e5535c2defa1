"""Trips for drivers: today's stops in order, complete or fail a stop, re-plan what is left."""

from __future__ import annotations

import base64
from urllib.parse import quote

from django.conf import settings
from django.urls import reverse
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from logistics import selectors
from logistics.models import StopKind, Trip, TripStop
from logistics.services import trips as services
from waste.api.idempotency import idempotent_response
from waste.api.schema import IDEMPOTENCY_KEY
from waste.documents.qr import qr_png
from waste.roadside import roadside_token


def navigation_links(lon: float, lat: float, name: str) -> dict:
    """Navigation is left to the phone: a geo: URI (any maps app) and a map page it opens itself."""
    return {
        "geo": f"geo:{lat:.6f},{lon:.6f}?q={lat:.6f},{lon:.6f}({quote(name)})",
        "map_url": settings.NAVIGATION_MAP_URL.format(lat=f"{lat:.6f}", lon=f"{lon:.6f}", name=quote(name)),
    }


class StopOutput(serializers.ModelSerializer):
    site_name = serializers.CharField(source="place_name")
    location = serializers.SerializerMethodField()
    batch = serializers.SerializerMethodField()

    class Meta:
        model = TripStop
        fields = [
            "sequence",
            "kind",
            "pickup",
            "batch",
            "site",
            "site_name",
            "location",
            "eta",
            "load_kg_after",
            "status",
            "reason",
            "completed_at",
        ]

    def get_location(self, stop) -> list[float]:
        return [stop.place.x, stop.place.y]

    def get_batch(self, stop) -> str | None:
        return stop.pickup.batch.code if stop.pickup_id and stop.pickup.batch_id else None


class RoundStopOutput(StopOutput):
    """A stop of today's round as the driver's phone shows it."""

    batches = serializers.SerializerMethodField()
    waste = serializers.SerializerMethodField()
    expected_kg = serializers.SerializerMethodField()
    window = serializers.SerializerMethodField()
    current = serializers.SerializerMethodField()
    navigation = serializers.SerializerMethodField()
    manifest = serializers.SerializerMethodField()
    incident = serializers.SerializerMethodField()

    class Meta(StopOutput.Meta):
        fields = StopOutput.Meta.fields + [
            "batches",
            "waste",
            "expected_kg",
            "window",
            "current",
            "navigation",
            "manifest",
            "incident",
        ]

    def _details(self, stop) -> dict:
        return self.context["details"].get(stop.pk, {})

    def get_batches(self, stop) -> list[str]:
        return [stop.pickup.batch.code] if stop.pickup_id and stop.pickup.batch_id else []

    def get_waste(self, stop) -> dict | None:
        return self._details(stop).get("waste")

    def get_expected_kg(self, stop) -> str | None:
        return str(stop.pickup.quantity_kg) if stop.pickup_id else None

    def get_window(self, stop) -> dict | None:
        if not stop.pickup_id or not (stop.pickup.window_start or stop.pickup.window_end):
            return None
        start, end = stop.pickup.window_start, stop.pickup.window_end
        return {"start": start.strftime("%H:%M") if start else None, "end": end.strftime("%H:%M") if end else None}

    def get_current(self, stop) -> bool:
        return stop.pk in self.context["current"]

    def get_navigation(self, stop) -> dict:
        return navigation_links(stop.place.x, stop.place.y, stop.place_name or str(stop.get_kind_display()))

    def get_manifest(self, stop) -> dict | None:
        return self._details(stop).get("manifest")

    def get_incident(self, stop) -> dict | None:
        """At an incident's stop: what happened there (kind, description, waste) and whether the
        driver's arrival is recorded."""
        return self._details(stop).get("incident") if stop.kind == StopKind.INCIDENT else None


class TripOutput(serializers.ModelSerializer):
    plate = serializers.CharField(source="vehicle.plate")
    driver = serializers.SlugRelatedField(slug_field="username", read_only=True)
    stops = StopOutput(many=True)

    class Meta:
        model = Trip
        fields = ["id", "plan", "vehicle", "plate", "driver", "date", "status", "stops"]


class RoundOutput(TripOutput):
    """A trip of today's round: stops in order, the current one flagged and named, and the route
    as GeoJSON (road-following legs where a road network is loaded; ``route.source`` says which)."""

    stops = RoundStopOutput(many=True)
    current_stop = serializers.SerializerMethodField()
    route = serializers.SerializerMethodField()

    class Meta(TripOutput.Meta):
        fields = TripOutput.Meta.fields + ["current_stop", "route"]

    def get_current_stop(self, trip) -> int | None:
        stop = selectors.trip_current_stop(trip)
        return stop.sequence if stop else None

    def get_route(self, trip) -> dict:
        return selectors.trip_route_geojson(trip)


class TripsTodayApi(APIView):
    @extend_schema(responses={200: RoundOutput(many=True)})
    def get(self, request):
        trips = list(selectors.trips_for_driver(user=request.user))
        context = {
            "details": selectors.trip_stop_details(trips),
            "current": {s.pk for s in (selectors.trip_current_stop(t) for t in trips) if s is not None},
        }
        return Response({"results": RoundOutput(trips, many=True, context=context).data})


class TripDetailApi(APIView):
    @extend_schema(responses={200: TripOutput})
    def get(self, request, trip_id: int):
        return Response(TripOutput(selectors.trip_get(user=request.user, trip_id=trip_id)).data)


class StopFailApi(APIView):
    """A stop the driver could not do, with the reason. With an Idempotency-Key (the phone sends its
    queue item's), a resend after a lost answer gets the first answer and writes nothing."""

    class InputSerializer(serializers.Serializer):
        reason = serializers.CharField(max_length=300)

    @extend_schema(
        request=InputSerializer,
        responses={200: StopOutput},
        parameters=[IDEMPOTENCY_KEY],
    )
    def post(self, request, trip_id: int, sequence: int):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        trip = selectors.trip_get(user=request.user, trip_id=trip_id)

        def handler():
            stop = services.trip_stop_fail(
                user=request.user, trip=trip, sequence=sequence, reason=data.validated_data["reason"]
            )
            return 200, StopOutput(stop).data

        return idempotent_response(request, scope=f"stop-fail:{trip.pk}:{sequence}", handler=handler)


class StopCompleteApi(APIView):
    @extend_schema(request=None, responses={200: StopOutput})
    def post(self, request, trip_id: int, sequence: int):
        trip = selectors.trip_get(user=request.user, trip_id=trip_id)
        stop = services.trip_stop_complete(user=request.user, trip=trip, sequence=sequence)
        return Response(StopOutput(stop).data)


class TripReplanApi(APIView):
    @extend_schema(request=None, responses={202: dict})
    def post(self, request, trip_id: int):
        trip = selectors.trip_get(user=request.user, trip_id=trip_id)
        plan = services.trip_replan(user=request.user, trip=trip)
        return Response({"id": plan.id, "status": plan.status}, status=202)


class LoadOnBoardApi(APIView):
    """What the driver carries, each manifest with a short-lived roadside-control link and its QR code
    (a PNG data URL, so the phone can keep and show it offline until the link expires)."""

    @extend_schema(responses={200: dict})
    def get(self, request):
        base = settings.PUBLIC_BASE_URL.rstrip("/")
        results = []
        for manifest in selectors.manifests_on_board(user=request.user):
            token, expires = roadside_token(manifest)
            url = base + reverse("roadside", args=[token])
            carriers = list(manifest.carriers.select_related("organisation", "driver").order_by("order"))
            results.append(
                {
                    "number": manifest.number,
                    "version": manifest.version,
                    "status": manifest.status,
                    "status_label": manifest.get_status_display(),
                    "consignor": manifest.consignor.name,
                    "destination": manifest.to_site.name,
                    "plates": [c.vehicle_plate for c in carriers if c.vehicle_plate],
                    "lines": [
                        {
                            "batch": line.batch.code,
                            "waste_code": line.batch.waste.display_code,
                            "waste_name": line.batch.waste.name,
                            "quantity_kg": str(line.quantity_kg),
                        }
                        for line in manifest.lines.select_related("batch__waste").order_by("id")
                    ],
                    "control_url": url,
                    "pdf_url": base + reverse("roadside-pdf", args=[token]),
                    "qr": "data:image/png;base64," + base64.b64encode(qr_png(url, box_size=8)).decode(),
                    "expires_at": expires.isoformat(),
                }
            )
        return Response({"results": results})
