"""Organisations, members and jurisdictions."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_gis.serializers import GeoFeatureModelSerializer

from waste.api.fields import CheckedGeometryField
from waste.api.pagination import GeoPagination
from waste.models import IdScheme, Jurisdiction, MemberRole, Membership, Organisation, Role
from waste.scoping import visible_to
from waste.services import parties as services


class OrganisationOutput(serializers.ModelSerializer):
    roles = serializers.ListField(child=serializers.ChoiceField(Role.choices), read_only=True)

    class Meta:
        model = Organisation
        fields = [
            "id",
            "name",
            "roles",
            "identifier_scheme",
            "identifier",
            "district_code",
            "address",
            "contact_name",
            "contact_phone",
            "contact_email",
            "created_at",
        ]


class OrganisationFilter(filters.FilterSet):
    role = filters.ChoiceFilter(choices=Role.choices, method="filter_role")
    district_code = filters.CharFilter()
    name = filters.CharFilter(lookup_expr="icontains")

    class Meta:
        model = Organisation
        fields = ["role", "district_code", "name"]

    def filter_role(self, queryset, name, value):
        return queryset.filter(**{f"is_{value}": True})


class OrganisationListCreateApi(generics.ListAPIView):
    serializer_class = OrganisationOutput
    filterset_class = OrganisationFilter

    class InputSerializer(serializers.Serializer):
        name = serializers.CharField(max_length=200)
        roles = serializers.ListField(child=serializers.ChoiceField(Role.choices), min_length=1, max_length=5)
        identifier_scheme = serializers.ChoiceField(IdScheme.choices)
        identifier = serializers.CharField(max_length=40)
        district_code = serializers.CharField(max_length=6, required=False, allow_blank=True, default="")
        address = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")
        contact_name = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
        contact_phone = serializers.CharField(max_length=40, required=False, allow_blank=True, default="")
        contact_email = serializers.EmailField(required=False, allow_blank=True, default="")

    def get_queryset(self):
        return visible_to(Organisation.objects.all(), self.request.user)

    @extend_schema(request=InputSerializer, responses={201: OrganisationOutput})
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        org = services.organisation_create(user=request.user, **data.validated_data)
        return Response(OrganisationOutput(org).data, status=201)


class OrganisationDetailApi(generics.RetrieveAPIView):
    serializer_class = OrganisationOutput

    def get_queryset(self):
        return visible_to(Organisation.objects.all(), self.request.user)


class MembershipOutput(serializers.ModelSerializer):
    username = serializers.CharField(source="user.username")

    class Meta:
        model = Membership
        fields = ["id", "username", "organisation", "role", "created_at"]


class MembershipListCreateApi(generics.ListAPIView):
    serializer_class = MembershipOutput
    filterset_fields: list[str] = []

    class InputSerializer(serializers.Serializer):
        username = serializers.CharField(max_length=150)
        role = serializers.ChoiceField(MemberRole.choices)

    def organisation(self) -> Organisation:
        return get_object_or_404(visible_to(Organisation.objects.all(), self.request.user), pk=self.kwargs["pk"])

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # the schema generator has no pk
            return Membership.objects.none()
        org = self.organisation()
        return visible_to(Membership.objects.filter(organisation=org).select_related("user"), self.request.user)

    @extend_schema(request=InputSerializer, responses={201: MembershipOutput})
    def post(self, request, pk):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        membership = services.membership_add(user=request.user, organisation=self.organisation(), **data.validated_data)
        return Response(MembershipOutput(membership).data, status=201)


class PinSetApi(APIView):
    class InputSerializer(serializers.Serializer):
        pin = serializers.RegexField(r"^\d{4,8}$", error_messages={"invalid": _("A PIN is 4 to 8 digits.")})

    @extend_schema(request=InputSerializer, responses={204: None})
    def post(self, request, pk):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        org = get_object_or_404(visible_to(Organisation.objects.all(), request.user), pk=pk)
        services.membership_pin_set(user=request.user, organisation=org, pin=data.validated_data["pin"])
        return Response(status=204)


class JurisdictionOutput(GeoFeatureModelSerializer):
    class Meta:
        model = Jurisdiction
        geo_field = "area"
        fields = ["id", "organisation", "name", "district_code"]


class JurisdictionListCreateApi(generics.ListAPIView):
    serializer_class = JurisdictionOutput
    pagination_class = GeoPagination
    filterset_fields = ["organisation", "district_code"]

    class InputSerializer(serializers.Serializer):
        organisation = serializers.PrimaryKeyRelatedField(queryset=Organisation.objects.all())
        name = serializers.CharField(max_length=200)
        district_code = serializers.CharField(max_length=6)
        area = CheckedGeometryField(("MultiPolygon", "Polygon"))

    def get_queryset(self):
        return visible_to(Jurisdiction.objects.all(), self.request.user)

    @extend_schema(request=InputSerializer, responses={201: JurisdictionOutput})
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        area = values.pop("area")
        if area.geom_type == "Polygon":
            from django.contrib.gis.geos import MultiPolygon

            area = MultiPolygon(area, srid=area.srid)
        jurisdiction = services.jurisdiction_create(user=request.user, area=area, **values)
        return Response(JurisdictionOutput(jurisdiction).data, status=201)
