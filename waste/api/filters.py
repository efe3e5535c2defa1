"""Filtering shared by every list endpoint: django-filter plus a strict check of parameter names."""

from __future__ import annotations

from django.utils.translation import gettext as _
from django_filters import rest_framework as filters
from django_filters.fields import IsoDateTimeField
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
            raise ValidationError({name: [_("Unknown query parameter.")] for name in unknown})
        return super().filter_queryset(request, queryset, view)


def parse_lon_lat(value: str, field: str) -> tuple[float, float]:
    try:
        lon, lat = (float(part) for part in value.split(","))
    except ValueError as exc:
        raise ValidationError({field: [_("Expected <lon>,<lat> in degrees.")]}) from exc
    if not in_world(lon, lat):
        raise ValidationError({field: [_("Coordinates are outside the world (lon -180..180, lat -90..90).")]})
    return lon, lat


class _UtcIsoDateTimeField(IsoDateTimeField):
    """ISO 8601 with any offset, normalised to UTC: databases refuse offsets beyond ±15:59."""

    def to_python(self, value):
        from datetime import UTC

        from django.core.exceptions import ValidationError as FormValidationError

        parsed = super().to_python(value)
        if parsed is None or parsed.tzinfo is None:
            return parsed
        try:
            return parsed.astimezone(UTC)
        except OverflowError as exc:
            raise FormValidationError(_("Date and time out of range.")) from exc


class IsoDateTimeFilter(filters.IsoDateTimeFilter):
    field_class = _UtcIsoDateTimeField
