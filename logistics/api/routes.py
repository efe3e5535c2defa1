"""Route plans: request (202, solved by a worker), read back with routes and GeoJSON, dispatch."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from logistics import selectors
from logistics.api.common import organisation
from logistics.api.trips import TripOutput
from logistics.models import RoutePlan
from logistics.services import plans as services
from logistics.services.trips import plan_dispatch


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
