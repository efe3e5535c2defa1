"""Geometry constants and helpers. Every stored geometry is WGS 84 (SRID 4326)."""

from django.contrib.gis.geos import Point, Polygon

WGS84 = 4326
# Web Mercator is only for drawing; distances are measured on the spheroid (geography).
WEB_MERCATOR = 3857


def point(lon: float, lat: float) -> Point:
    return Point(float(lon), float(lat), srid=WGS84)


def in_world(lon: float, lat: float) -> bool:
    return -180.0 <= lon <= 180.0 and -90.0 <= lat <= 90.0


def bbox_polygon(min_lon: float, min_lat: float, max_lon: float, max_lat: float) -> Polygon:
    poly = Polygon.from_bbox((min_lon, min_lat, max_lon, max_lat))
    poly.srid = WGS84
    return poly
