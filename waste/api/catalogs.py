"""Code catalogs: reference data, readable by every signed-in user."""

from __future__ import annotations

import datetime

from django.utils.translation import gettext as _
from django_filters import rest_framework as filters
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, serializers
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from waste.models import Catalog, CatalogEntry
from waste.selectors.catalogs import catalog_entry_lookup


class CatalogOutput(serializers.ModelSerializer):
    entries = serializers.IntegerField(source="entries.count", read_only=True)

    class Meta:
        model = Catalog
        fields = [
            "id",
            "key",
            "version",
            "name",
            "effective_from",
            "effective_until",
            "source",
            "licence",
            "partial",
            "entries",
        ]


class CatalogEntryOutput(serializers.ModelSerializer):
    catalog = serializers.CharField(source="catalog.key")
    version = serializers.CharField(source="catalog.version")
    hazard_traits = serializers.ListField(source="traits", child=serializers.CharField())

    class Meta:
        model = CatalogEntry
        fields = [
            "code",
            "display_code",
            "name",
            "catalog",
            "version",
            "parent_code",
            "is_hazardous",
            "hazard_traits",
            "extra",
        ]


class CatalogListApi(generics.ListAPIView):
    serializer_class = CatalogOutput
    queryset = Catalog.objects.all()
    filterset_fields = ["key"]


class EntryFilter(filters.FilterSet):
    catalog = filters.CharFilter(field_name="catalog__key")
    version = filters.CharFilter(field_name="catalog__version")
    parent_code = filters.CharFilter()
    is_hazardous = filters.BooleanFilter()
    q = filters.CharFilter(method="filter_q")

    class Meta:
        model = CatalogEntry
        fields = ["catalog", "version", "parent_code", "is_hazardous", "q"]

    def filter_q(self, queryset, name, value):
        from waste.selectors.catalogs import catalog_entry_q

        return queryset.filter(catalog_entry_q(value))


class CatalogEntryListApi(generics.ListAPIView):
    serializer_class = CatalogEntryOutput
    queryset = CatalogEntry.objects.select_related("catalog").order_by("catalog__key", "code", "id")
    filterset_class = EntryFilter


class WasteCodeLookupApi(APIView):
    """The entry for a code in the catalog version in force on a date (default: today)."""

    @extend_schema(
        parameters=[OpenApiParameter("on", datetime.date, description="date, default today")],
        responses=CatalogEntryOutput,
    )
    def get(self, request, code: str):
        unknown = sorted(set(request.query_params) - {"on", "catalog"})
        if unknown:
            raise ValidationError({name: [_("Unknown query parameter.")] for name in unknown})
        on = request.query_params.get("on")
        try:
            day = datetime.date.fromisoformat(on) if on else datetime.date.today()
        except ValueError as exc:
            raise ValidationError({"on": [_("Expected a date YYYY-MM-DD.")]}) from exc
        entry = catalog_entry_lookup(
            code=code, on=day, catalog_key=request.query_params.get("catalog") or None, field="code"
        )
        return Response(CatalogEntryOutput(entry).data)
