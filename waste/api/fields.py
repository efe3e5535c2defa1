"""Serializer fields shared by the API: geometries checked for validity and the world's bounds."""

from __future__ import annotations

import math

from django.contrib.gis.geos import GEOSGeometry, Point
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework_gis.fields import GeometryField

from waste.geo import WGS84

GEOJSON_GEOMETRY = {
    "type": "object",
    "description": "GeoJSON geometry in WGS 84 (lon, lat)",
    "properties": {
        "type": {"type": "string", "example": "Point"},
        "coordinates": {"type": "array", "items": {}, "example": [117.2, 39.12]},
    },
    "required": ["type", "coordinates"],
}


@extend_schema_field(GEOJSON_GEOMETRY)
class CheckedGeometryField(GeometryField):
    """A GeoJSON geometry of one type, valid, in WGS 84 and inside the world's bounds."""

    def __init__(self, geom_type: str | tuple[str, ...], **kwargs):
        self.geom_types = (geom_type,) if isinstance(geom_type, str) else geom_type
        super().__init__(**kwargs)

    def to_internal_value(self, value):
        if not isinstance(value, dict) or "type" not in value or "coordinates" not in value:
            raise serializers.ValidationError(_("Expected a GeoJSON geometry object with type and coordinates."))
        point = self._plain_point(value)
        if point is not None:
            return point
        try:
            geom = super().to_internal_value(value)
        except Exception as exc:  # GEOS/GDAL raise many types for malformed input
            raise serializers.ValidationError(_("Malformed GeoJSON geometry: %(exc)s") % {"exc": exc}) from exc
        if not isinstance(geom, GEOSGeometry) or geom.empty:
            raise serializers.ValidationError(_("Malformed GeoJSON geometry."))
        if geom.geom_type not in self.geom_types:
            raise serializers.ValidationError(
                _("Expected a %(join)s, got %(geom_type)s.")
                % {"join": " or ".join(self.geom_types), "geom_type": geom.geom_type}
            )
        if geom.hasz:
            # Columns are 2D; PostGIS would refuse a 3D geometry with a database error (a 500).
            raise serializers.ValidationError(_("Expected 2D coordinates [lon, lat], without height."))
        geom.srid = WGS84
        min_x, min_y, max_x, max_y = geom.extent
        if min_x < -180 or max_x > 180 or min_y < -90 or max_y > 90:
            raise serializers.ValidationError(_("Coordinates are outside the world (lon -180..180, lat -90..90)."))
        if not geom.valid:
            raise serializers.ValidationError(
                _("Invalid geometry: %(valid_reason)s.") % {"valid_reason": geom.valid_reason}
            )
        return geom

    def _plain_point(self, value: dict) -> Point | None:
        """A 2D point inside the world's bounds, built without parsing GeoJSON through GDAL/GEOS (every scan
        sends one: this is a fifth of a bulk upload's CPU otherwise); anything else takes the full path."""
        coordinates = value["coordinates"]
        if value["type"] != "Point" or "Point" not in self.geom_types or len(value) != 2:
            return None
        if not isinstance(coordinates, list) or len(coordinates) != 2:
            return None
        if not all(type(c) in (int, float) and math.isfinite(c) for c in coordinates):
            return None
        x, y = coordinates
        if not (-180 <= x <= 180 and -90 <= y <= 90):
            return None  # the full path names the error
        return Point(float(x), float(y), srid=WGS84)
