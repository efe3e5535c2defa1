"""The map and chart islands under the product's CSP, in Chromium (a test-only page renders both)."""

from __future__ import annotations

import pytest
from django.http import HttpResponse
from django.template import engines
from django.urls import include, path

from tests.web.helpers import map_drawn
from web import maps

PAGE = """{% extends "web/base.html" %}
{% block head %}{% include "web/components/map_assets.html" %}
{% include "web/components/chart_assets.html" %}{% endblock %}
{% block content %}<h1>islands</h1>
{% include "web/components/map.html" with map=map id="the-map" %}
{% include "web/components/chart.html" with chart=chart id="the-chart" label="flows" %}{% endblock %}"""


def islands(request):
    config = maps.map_config(
        maps.layer(
            "districts",
            "polygon",
            [maps.feature({"type": "Polygon", "coordinates": [[[117, 39], [117.5, 39], [117.5, 39.3], [117, 39]]]})],
        ),
        maps.layer(
            "sites",
            "point",
            [
                maps.feature(
                    {"type": "Point", "coordinates": [117.2, 39.1]}, title="东丽转运站", kind="storage", k="贮存"
                )
            ],
            color_property="kind",
            colors=maps.SITE_KIND_COLOURS,
            popup_fields=[("k", "类型")],
            legend=[("贮存", maps.SITE_KIND_COLOURS["storage"])],
        ),
        maps.layer(
            "routes",
            "line",
            [maps.feature({"type": "LineString", "coordinates": [[117.1, 39], [117.3, 39.2]]}, color="#f04438")],
        ),
    )
    chart = {
        "series": [
            {
                "type": "sankey",
                "data": [{"name": "东丽区"}, {"name": "利用"}],
                "links": [{"source": "东丽区", "target": "利用", "value": 3}],
            }
        ]
    }
    html = engines["django"].from_string(PAGE).render({"map": config, "chart": chart}, request)
    return HttpResponse(html)


urlpatterns = [path("islands/", islands), path("", include("config.urls"))]


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@pytest.mark.urls(__name__)
def test_it_draws_the_map_and_the_chart_under_the_csp(page, shot):
    page.goto(page.live_server_url + "/islands/")
    page.wait_for_selector("[data-map][data-loaded]")
    page.wait_for_selector("[data-chart][data-loaded]")
    map_drawn(page)
    x, y = page.evaluate(
        "(() => { const p = document.querySelector('[data-map]')._map.project([117.2, 39.1]); return [p.x, p.y]; })()"
    )
    page.locator(".map canvas").click(position={"x": x, "y": y})
    popup = page.locator(".maplibregl-popup")
    assert popup.count() == 1
    assert "东丽转运站" in popup.inner_text() and "贮存" in popup.inner_text()
    assert page.locator(".map-legend").inner_text().strip() == "贮存"
    assert page.locator("[data-chart] canvas").count() == 1
    shot(page, "islands")
