"""Pickup requests: from batches awaiting pickup, or a collection point's expected fill."""

from __future__ import annotations

from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from logistics import selectors
from logistics.api.common import organisation, site
from logistics.models import Pickup, PickupStatus, WasteClass
from logistics.services import pickups as services


class PickupOutput(serializers.ModelSerializer):
    batch = serializers.SlugRelatedField(slug_field="code", read_only=True)
    site_name = serializers.CharField(source="site.name")
    destination_name = serializers.CharField(source="destination.name", default=None)

    class Meta:
        model = Pickup
        fields = [
            "id",
            "hauler",
            "requested_by",
            "site",
            "site_name",
            "batch",
            "waste_code",
            "waste_category",
            "waste_class",
            "quantity_kg",
            "volume_m3",
            "date",
            "window_start",
            "window_end",
            "service_minutes",
            "destination",
            "destination_name",
            "destination_problem",
            "status",
        ]


class PickupFilter(filters.FilterSet):
    status = filters.MultipleChoiceFilter(choices=PickupStatus.choices)

    class Meta:
        model = Pickup
        fields = ["date", "status", "hauler", "waste_class", "site"]


class Common(serializers.Serializer):
    date = serializers.DateField()
    hauler = serializers.IntegerField(min_value=1, required=False, allow_null=True, default=None)
    window_start = serializers.TimeField(required=False, allow_null=True, default=None)
    window_end = serializers.TimeField(required=False, allow_null=True, default=None)
    service_minutes = serializers.IntegerField(min_value=0, max_value=600, required=False, default=10)


class PickupListApi(generics.ListAPIView):
    """GET: pickups you may see. POST: one pickup at a site (a collection point's expected fill)."""

    serializer_class = PickupOutput
    filterset_class = PickupFilter

    class InputSerializer(Common):
        site = serializers.IntegerField(min_value=1)
        quantity_kg = serializers.DecimalField(max_digits=12, decimal_places=3, min_value=0)
        volume_m3 = serializers.DecimalField(max_digits=8, decimal_places=3, min_value=0, required=False, default=0)
        waste_class = serializers.ChoiceField(WasteClass.choices)
        waste_code = serializers.CharField(max_length=32, required=False, default="", allow_blank=True)
        waste_category = serializers.CharField(max_length=32, required=False, default="", allow_blank=True)

    def get_queryset(self):
        return selectors.pickup_list(user=self.request.user)

    @extend_schema(request=InputSerializer, responses={201: PickupOutput})
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        values["site"] = site(request.user, values["site"])
        values["hauler"] = organisation(request.user, values["hauler"])
        pickup = services.pickup_create_at_site(user=request.user, **values)
        return Response(PickupOutput(pickup).data, status=201)


class PickupFromBatchesApi(APIView):
    class InputSerializer(Common):
        codes = serializers.ListField(child=serializers.CharField(max_length=20), min_length=1, max_length=500)
        waste_class = serializers.ChoiceField(WasteClass.choices, required=False, allow_null=True, default=None)

    @extend_schema(request=InputSerializer, responses={201: PickupOutput(many=True)})
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        values["hauler"] = organisation(request.user, values["hauler"])
        pickups = services.pickup_create_for_batches(user=request.user, **values)
        return Response(PickupOutput(pickups, many=True).data, status=201)
