"""Trips for drivers: today's stops in order, complete or fail a stop, re-plan what is left."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from logistics import selectors
from logistics.models import Trip, TripStop
from logistics.services import trips as services


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


class TripOutput(serializers.ModelSerializer):
    plate = serializers.CharField(source="vehicle.plate")
    driver = serializers.SlugRelatedField(slug_field="username", read_only=True)
    stops = StopOutput(many=True)

    class Meta:
        model = Trip
        fields = ["id", "plan", "vehicle", "plate", "driver", "date", "status", "stops"]


class TripsTodayApi(APIView):
    @extend_schema(responses={200: TripOutput(many=True)})
    def get(self, request):
        trips = selectors.trips_for_driver(user=request.user)
        return Response({"results": TripOutput(trips, many=True).data})


class TripDetailApi(APIView):
    @extend_schema(responses={200: TripOutput})
    def get(self, request, trip_id: int):
        return Response(TripOutput(selectors.trip_get(user=request.user, trip_id=trip_id)).data)


class StopFailApi(APIView):
    class InputSerializer(serializers.Serializer):
        reason = serializers.CharField(max_length=300)

    @extend_schema(request=InputSerializer, responses={200: StopOutput})
    def post(self, request, trip_id: int, sequence: int):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        trip = selectors.trip_get(user=request.user, trip_id=trip_id)
        stop = services.trip_stop_fail(
            user=request.user, trip=trip, sequence=sequence, reason=data.validated_data["reason"]
        )
        return Response(StopOutput(stop).data)


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
