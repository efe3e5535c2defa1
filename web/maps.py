"""Python side of the map island (static/web/map.js): GeoJSON layers for ``components/map.html``."""

from __future__ import annotations

import json

# Site kinds (waste.models.SiteKind values) → colours used on every map.
SITE_KIND_COLOURS = {
    "generation": "#6b7280",
    "collection_point": "#0e9384",
    "transfer_station": "#2e90fa",
    "storage": "#f79009",
    "treatment": "#12b76a",
    "disposal": "#d92d20",
}
# Distinct colours for routes (one per vehicle), cycled.
ROUTE_COLOURS = ["#2e90fa", "#f04438", "#12b76a", "#f79009", "#7a5af8", "#ee46bc", "#0e9384", "#875bf7"]


def feature(geometry, **properties) -> dict:
    """A GeoJSON feature from a GEOS geometry (or a GeoJSON dict) and its properties (title → popup heading)."""
    if hasattr(geometry, "geojson"):
        geometry = json.loads(geometry.geojson)
    return {"type": "Feature", "geometry": geometry, "properties": properties}


def layer(
    layer_id: str,
    kind: str,
    features: list[dict],
    *,
    color: str = "#1f7a4d",
    color_property: str | None = None,
    colors: dict[str, str] | None = None,
    popup_fields: list[tuple[str, str]] | None = None,
    legend: list[tuple[str, str]] | None = None,
    refresh_url: str | None = None,
    refresh_seconds: int = 5,
) -> dict:
    """One layer: ``kind`` is "polygon", "point" or "line"; labels must already be translated strings.
    ``refresh_url``: a URL answering the layer's FeatureCollection, polled every ``refresh_seconds``."""
    assert kind in {"polygon", "point", "line"}
    extra = {"refreshUrl": refresh_url, "refreshSeconds": refresh_seconds} if refresh_url else {}
    return {
        **extra,
        "id": layer_id,
        "type": kind,
        "data": {"type": "FeatureCollection", "features": features},
        "color": color,
        "colorProperty": color_property,
        "colors": colors,
        "popupFields": [[key, str(label)] for key, label in (popup_fields or [])],
        "legend": [[str(label), colour] for label, colour in (legend or [])],
    }


def map_config(*layers: dict, bounds: tuple[float, float, float, float] | None = None) -> dict:
    config = {"layers": list(layers)}
    if bounds:
        config["bounds"] = list(bounds)
    return config
