"""Route plans: request (202, solved by a worker), read back with routes and GeoJSON, dispatch."""

from __future__ import annotations

from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from logistics import selectors
from logistics.api.common import organisation
from logistics.api.trips import TripOutput
from logistics.models import RoutePlan
from logistics.routing import validate
from logistics.services import plans as services
from logistics.services.plans import NO_DESTINATION
from logistics.services.trips import plan_dispatch

# The plan is solved by a worker and stored once: its progress message and the reasons pickups were
# left out are stored as codes (English detail beside), and translated here for the reader.
PROGRESS = {
    "queued": gettext_lazy("queued"),
    "loading": gettext_lazy("loading"),
    "building distance matrices": gettext_lazy("building distance matrices"),
    "solving pickups": gettext_lazy("solving pickups"),
    "writing routes": gettext_lazy("writing routes"),
    "done": gettext_lazy("done"),
    "failed": gettext_lazy("failed"),
}
REASONS = {
    validate.OUTSIDE_AREA: gettext_lazy("The pickup lies outside the planning area."),
    validate.INVALID_LOCATION: gettext_lazy("The pickup's location is not in the distance matrix."),
    validate.INVALID_DEMAND: gettext_lazy("The pickup's quantity is negative or not a number."),
    validate.INVALID_TIME_WINDOW: gettext_lazy("The time window ends before it starts."),
    validate.NO_VEHICLE: gettext_lazy("No usable vehicle in the fleet."),
    validate.NO_LICENSED_VEHICLE: gettext_lazy("No vehicle is licensed to carry this class of waste."),
    validate.DEMAND_EXCEEDS_CAPACITY: gettext_lazy("The pickup is larger than any suitable vehicle can carry."),
    validate.UNREACHABLE: gettext_lazy("No road path between the pickup and a depot of a suitable vehicle."),
    validate.TIME_WINDOW_UNREACHABLE: gettext_lazy("No suitable vehicle can reach the pickup within its time window."),
    validate.NOT_ROUTED: gettext_lazy("The fleet could not fit this pickup into any feasible route."),
    NO_DESTINATION: gettext_lazy("No active site can receive this waste on that day."),
}


class PlanOutput(serializers.ModelSerializer):
    hauler = serializers.IntegerField(source="hauler_id")

    class Meta:
        model = RoutePlan
        fields = [
            "id",
            "hauler",
            "date",
            "status",
            "progress",
            "message",
            "error",
            "request",
            "replan_of",
            "created_at",
            "started_at",
            "finished_at",
        ]

    def to_representation(self, plan):
        data = super().to_representation(plan)
        result = plan.result or {}
        for key in ("solver", "matrix", "distance_m", "duration_s", "routes", "unassigned", "warnings", "geojson"):
            data[key] = result.get(key, [] if key in ("routes", "unassigned", "warnings") else None)
        for route in data["routes"] or []:
            route.pop("path", None)  # the geometry is in geojson
        for item in data["unassigned"] or []:
            item["reason"] = str(REASONS.get(item.get("code"), item.get("message", "")))
        if plan.message in PROGRESS:
            data["message"] = str(PROGRESS[plan.message])
        return data


class PlanCreateApi(APIView):
    class InputSerializer(serializers.Serializer):
        date = serializers.DateField()
        hauler = serializers.IntegerField(min_value=1)
        vehicles = serializers.ListField(
            child=serializers.IntegerField(min_value=1), required=False, allow_null=True, default=None, max_length=500
        )
        pickups = serializers.ListField(
            child=serializers.IntegerField(min_value=1), required=False, allow_null=True, default=None, max_length=5000
        )

    class OutputSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        status = serializers.CharField()

    @extend_schema(request=InputSerializer, responses={202: OutputSerializer})
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        plan = services.plan_request(
            user=request.user,
            hauler=organisation(request.user, values["hauler"]),
            date=values["date"],
            vehicle_ids=values["vehicles"],
            pickup_ids=values["pickups"],
        )
        return Response({"id": plan.id, "status": plan.status}, status=202)


class PlanDetailApi(APIView):
    @extend_schema(responses={200: PlanOutput})
    def get(self, request, plan_id: int):
        return Response(PlanOutput(selectors.plan_get(user=request.user, plan_id=plan_id)).data)


class PlanDispatchApi(APIView):
    class InputSerializer(serializers.Serializer):
        drivers = serializers.DictField(
            child=serializers.CharField(max_length=150),
            required=False,
            default=dict,
            help_text="vehicle id -> driver's username; default: the vehicle's driver",
        )

    @extend_schema(request=InputSerializer, responses={201: TripOutput(many=True)})
    def post(self, request, plan_id: int):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        plan = selectors.plan_get(user=request.user, plan_id=plan_id)
        trips = plan_dispatch(user=request.user, plan=plan, drivers=data.validated_data["drivers"])
        return Response(TripOutput(trips, many=True).data, status=201)
