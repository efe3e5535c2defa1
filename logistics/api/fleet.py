"""Fleet: vehicles and hauler licences (list with scoping, create by the hauler's admin)."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.utils.translation import gettext as _
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers
from rest_framework.response import Response

from logistics import selectors
from logistics.api.common import organisation, site
from logistics.models import HaulerLicence, Vehicle, WasteClass
from logistics.services import fleet as services
from waste.errors import AppError


class VehicleOutput(serializers.ModelSerializer):
    depot_name = serializers.CharField(source="depot.name")
    default_driver = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = Vehicle
        fields = [
            "id",
            "organisation",
            "plate",
            "name",
            "capacity_kg",
            "capacity_m3",
            "classes",
            "depot",
            "depot_name",
            "shift_start",
            "shift_end",
            "cost_per_km",
            "cost_per_hour",
            "default_driver",
            "active",
        ]


class VehicleFilter(filters.FilterSet):
    class Meta:
        model = Vehicle
        fields = ["organisation", "active"]


class VehicleListApi(generics.ListAPIView):
    serializer_class = VehicleOutput
    filterset_class = VehicleFilter

    class InputSerializer(serializers.Serializer):
        organisation = serializers.IntegerField(min_value=1)
        plate = serializers.CharField(max_length=20)
        name = serializers.CharField(max_length=100, required=False, default="")
        capacity_kg = serializers.DecimalField(max_digits=10, decimal_places=3, min_value=0)
        capacity_m3 = serializers.DecimalField(
            max_digits=8, decimal_places=3, min_value=0, required=False, allow_null=True, default=None
        )
        classes = serializers.ListField(child=serializers.ChoiceField(WasteClass.choices), min_length=1)
        depot = serializers.IntegerField(min_value=1)
        shift_start = serializers.TimeField()
        shift_end = serializers.TimeField()
        cost_per_km = serializers.DecimalField(max_digits=8, decimal_places=3, min_value=0, required=False, default=1)
        cost_per_hour = serializers.DecimalField(max_digits=8, decimal_places=3, min_value=0, required=False, default=0)
        default_driver = serializers.CharField(required=False, allow_null=True, default=None)

    def get_queryset(self):
        return selectors.vehicle_list(user=self.request.user)

    @extend_schema(request=InputSerializer, responses={201: VehicleOutput})
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        org = organisation(request.user, values.pop("organisation"), "organisation")
        depot = site(request.user, values.pop("depot"), "depot")
        driver = None
        if username := values.pop("default_driver"):
            driver = get_user_model().objects.filter(username=username).first()
            if driver is None:
                raise AppError.field("default_driver", _("No such user."), code="unknown")
        vehicle = services.vehicle_create(
            user=request.user, organisation=org, depot=depot, default_driver=driver, **values
        )
        return Response(VehicleOutput(vehicle).data, status=201)


class LicenceOutput(serializers.ModelSerializer):
    class Meta:
        model = HaulerLicence
        fields = ["id", "organisation", "number", "classes", "valid_from", "valid_until"]


class LicenceListApi(generics.ListAPIView):
    serializer_class = LicenceOutput
    filterset_fields = ["organisation"]

    class InputSerializer(serializers.Serializer):
        organisation = serializers.IntegerField(min_value=1)
        number = serializers.CharField(max_length=60)
        classes = serializers.ListField(child=serializers.ChoiceField(WasteClass.choices), min_length=1)
        valid_from = serializers.DateField()
        valid_until = serializers.DateField()

    def get_queryset(self):
        return selectors.licence_list(user=self.request.user)

    @extend_schema(request=InputSerializer, responses={201: LicenceOutput})
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        org = organisation(request.user, values.pop("organisation"), "organisation")
        licence = services.licence_create(user=request.user, organisation=org, **values)
        return Response(LicenceOutput(licence).data, status=201)
