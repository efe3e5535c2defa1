"""Sites as GeoJSON, with kind, bounding-box and distance filters, and their permits."""

from __future__ import annotations

from django.contrib.gis.db.models.functions import Distance
from django.contrib.gis.measure import D
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework_gis.serializers import GeoFeatureModelSerializer

from waste.api.fields import CheckedGeometryField
from waste.api.filters import parse_lon_lat
from waste.api.pagination import GeoPagination, Pagination
from waste.geo import bbox_polygon, in_world, point
from waste.models import Organisation, Permit, Site, SiteKind
from waste.scoping import visible_to
from waste.services import sites as services


class SiteOutput(GeoFeatureModelSerializer):
    distance_m = serializers.SerializerMethodField()

    class Meta:
        model = Site
        geo_field = "location"
        fields = [
            "id",
            "organisation",
            "name",
            "kind",
            "district_code",
            "address",
            "storage_capacity_kg",
            "annual_capacity_kg",
            "active",
            "area",
            "distance_m",
        ]

    def get_distance_m(self, site) -> float | None:
        distance = getattr(site, "distance", None)
        return round(distance.m, 1) if distance is not None else None


class SiteFilter(filters.FilterSet):
    kind = filters.MultipleChoiceFilter(choices=SiteKind.choices)
    organisation = filters.NumberFilter()
    district_code = filters.CharFilter(lookup_expr="startswith")
    active = filters.BooleanFilter()
    bbox = filters.CharFilter(method="filter_bbox", help_text="min_lon,min_lat,max_lon,max_lat")
    near = filters.CharFilter(method="filter_noop", help_text="<lon>,<lat>; use with within_m")
    within_m = filters.NumberFilter(method="filter_noop", help_text="metres from `near`")

    class Meta:
        model = Site
        fields = ["kind", "organisation", "district_code", "active", "bbox", "near", "within_m"]

    def filter_bbox(self, queryset, name, value):
        try:
            min_lon, min_lat, max_lon, max_lat = (float(v) for v in value.split(","))
        except ValueError as exc:
            raise ValidationError({"bbox": [_("Expected min_lon,min_lat,max_lon,max_lat.")]}) from exc
        if not (in_world(min_lon, min_lat) and in_world(max_lon, max_lat)):
            raise ValidationError({"bbox": [_("Coordinates are outside the world.")]})
        if min_lon >= max_lon or min_lat >= max_lat:
            raise ValidationError({"bbox": [_("min must be smaller than max.")]})
        return queryset.filter(location__intersects=bbox_polygon(min_lon, min_lat, max_lon, max_lat))

    def filter_noop(self, queryset, name, value):
        return queryset

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        near, within = self.form.cleaned_data.get("near"), self.form.cleaned_data.get("within_m")
        if bool(near) != (within is not None):
            raise ValidationError({"near" if not near else "within_m": [_("near and within_m go together.")]})
        if near:
            if within <= 0 or within > 20_000_000:
                raise ValidationError({"within_m": [_("Must be between 0 and 20,000,000 metres.")]})
            origin = point(*parse_lon_lat(near, "near"))
            queryset = (
                queryset.filter(location__distance_lte=(origin, D(m=float(within))))
                .annotate(distance=Distance("location", origin))
                .order_by("distance")
            )
        return queryset


class SiteInput(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    kind = serializers.ChoiceField(SiteKind.choices)
    location = CheckedGeometryField("Point")
    area = CheckedGeometryField("Polygon", required=False, allow_null=True)
    district_code = serializers.CharField(max_length=6)
    address = serializers.CharField(max_length=300, required=False, allow_blank=True)
    storage_capacity_kg = serializers.DecimalField(
        max_digits=14, decimal_places=3, min_value=0, required=False, allow_null=True
    )
    annual_capacity_kg = serializers.DecimalField(
        max_digits=16, decimal_places=3, min_value=0, required=False, allow_null=True
    )
    active = serializers.BooleanField(required=False)


class SiteListCreateApi(generics.ListAPIView):
    serializer_class = SiteOutput
    pagination_class = GeoPagination
    filterset_class = SiteFilter

    class InputSerializer(SiteInput):
        organisation = serializers.PrimaryKeyRelatedField(queryset=Organisation.objects.all())

    def get_queryset(self):
        return visible_to(Site.objects.all(), self.request.user).order_by("name", "id")

    @extend_schema(request=InputSerializer, responses={201: SiteOutput})
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        site = services.site_create(user=request.user, **data.validated_data)
        return Response(SiteOutput(site).data, status=201)


class SiteDetailApi(generics.RetrieveAPIView):
    serializer_class = SiteOutput

    def get_queryset(self):
        return visible_to(Site.objects.all(), self.request.user)

    @extend_schema(request=SiteInput(partial=True), responses={200: SiteOutput})
    def patch(self, request, pk):
        site = self.get_object()
        data = SiteInput(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        site = services.site_update(user=request.user, site=site, **data.validated_data)
        return Response(SiteOutput(site).data)


class PermitOutput(serializers.ModelSerializer):
    class Meta:
        model = Permit
        fields = [
            "id",
            "site",
            "number",
            "codes",
            "operations",
            "annual_quantity_kg",
            "valid_from",
            "valid_until",
            "created_at",
        ]


class PermitListCreateApi(generics.ListAPIView):
    serializer_class = PermitOutput
    pagination_class = Pagination
    filterset_fields: list[str] = []

    class InputSerializer(serializers.Serializer):
        number = serializers.CharField(max_length=60)
        codes = serializers.ListField(child=serializers.CharField(max_length=32), min_length=1, max_length=500)
        operations = serializers.ListField(
            child=serializers.RegexField(r"^(R([1-9]|1[0-3])|D([1-9]|1[0-5]))$"), required=False, max_length=28
        )
        annual_quantity_kg = serializers.DecimalField(max_digits=16, decimal_places=3, min_value=0)
        valid_from = serializers.DateField()
        valid_until = serializers.DateField()

    def site(self) -> Site:
        return get_object_or_404(visible_to(Site.objects.all(), self.request.user), pk=self.kwargs["pk"])

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # the schema generator has no pk
            return Permit.objects.none()
        return visible_to(Permit.objects.filter(site=self.site()), self.request.user)

    @extend_schema(request=InputSerializer, responses={201: PermitOutput})
    def post(self, request, pk):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        permit = services.permit_create(user=request.user, site=self.site(), **data.validated_data)
        return Response(PermitOutput(permit).data, status=201)
