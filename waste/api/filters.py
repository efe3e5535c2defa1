"""Filtering shared by every list endpoint: django-filter plus a strict check of parameter names."""

from __future__ import annotations

from django_filters import rest_framework as filters
from rest_framework.exceptions import ValidationError

from waste.geo import in_world

ALWAYS_ALLOWED = {"page", "page_size", "format"}


class StrictFilterBackend(filters.DjangoFilterBackend):
    """Unknown parameter names get a 400 naming them, instead of being silently ignored."""

    def filter_queryset(self, request, queryset, view):
        allowed = set(ALWAYS_ALLOWED) | set(getattr(view, "extra_query_params", ()))
        filterset_class = self.get_filterset_class(view, queryset)
        if filterset_class is not None:
            allowed |= set(filterset_class.base_filters)
        unknown = sorted(set(request.query_params) - allowed)
        if unknown:
            raise ValidationError({name: ["Unknown query parameter."] for name in unknown})
        return super().filter_queryset(request, queryset, view)


def parse_lon_lat(value: str, field: str) -> tuple[float, float]:
    try:
        lon, lat = (float(part) for part in value.split(","))
    except ValueError as exc:
        raise ValidationError({field: ["Expected <lon>,<lat> in degrees."]}) from exc
    if not in_world(lon, lat):
        raise ValidationError({field: ["Coordinates are outside the world (lon -180..180, lat -90..90)."]})
    return lon, lat
