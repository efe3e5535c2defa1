"""The hauler dispatcher's pages with Django's test client: pickups, planning, the plan, dispatch, fleet, scoping."""

from __future__ import annotations

import datetime
import json
import re
from unittest import mock

import pytest
from django.test import Client
from django.urls import reverse

from logistics.models import Pickup, RoutePlan, Trip
from logistics.services.plans import plan_request
from tests.factories import MembershipFactory, SiteFactory, UserFactory, city_point, persona
from tests.logistics.helpers import TODAY, depot, driver, licence, pickup, run_inline, vehicle
from waste.models import MemberRole, Role, SiteKind

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _quick(settings):
    settings.ROUTING_SOLVER_SECONDS = 1


@pytest.fixture
def fleet(city):
    """The city hauler with two general-waste trucks (one with a default driver) and two open pickups."""
    home = depot(city.hauler_org)
    chauffeur = driver(city.hauler_org, "wang")
    points = [SiteFactory(organisation=city.generator_org, kind=SiteKind.COLLECTION_POINT, location=city_point())]
    points.append(SiteFactory(organisation=city.generator_org, kind=SiteKind.COLLECTION_POINT, location=city_point()))
    return {
        "depot": home,
        "driver": chauffeur,
        "truck": vehicle(city.hauler_org, home, "津A·T001", kg=1000, default_driver=chauffeur),
        "van": vehicle(city.hauler_org, home, "津A·T002", kg=600),
        "morning": pickup(city.hauler_org, points[0], kg=250, window=("08:00", "12:00")),
        "any_time": pickup(city.hauler_org, points[1], kg=300),
    }


@pytest.fixture
def rival(db):
    """Another hauler of the city with its own plan."""
    user, org, _ = persona("rival", roles=[Role.HAULER], site_kind=None)
    home = depot(org)
    vehicle(org, home, "津B·R001")
    with mock.patch("logistics.tasks.plan_run_task.delay"):
        plan = plan_request(user=user, hauler=org, date=TODAY)
    return {"user": user, "org": org, "plan": plan}


def logged_in(user, language: str = "en") -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    client.force_login(user)
    return client


def plan_post(client, **data):
    with mock.patch("logistics.tasks.plan_run_task.delay") as delay:
        response = client.post(reverse("web:dispatch-plan-create"), data)
    return response, delay


def finished_plan(city, fleet) -> RoutePlan:
    with mock.patch("logistics.tasks.plan_run_task.delay"):
        plan = plan_request(user=city.hauler, hauler=city.hauler_org, date=TODAY)
    plan = run_inline(plan.pk)
    assert plan.status == "done", plan.error
    return plan


def test_it_lists_the_haulers_open_pickups_with_windows_and_destinations(city, fleet, rival):
    other = pickup(rival["org"], SiteFactory(organisation=city.generator_org, location=city_point()), kg=77)
    html = logged_in(city.hauler).get(reverse("web:dispatch-home")).content.decode()
    assert fleet["morning"].site.name in html and fleet["any_time"].site.name in html
    assert "08:00–12:00" in html and "Any time" in html
    assert city.plant.name in html  # the nearest treatment site receives general waste
    assert other.site.name not in html
    assert "津A·T001" in html and "津A·T002" in html  # the vehicles to plan with, ticked
    assert len(re.findall(r'<input type="checkbox" name="vehicles"[^>]* checked', html)) == 2


def test_it_filters_pickups_by_day_and_says_what_to_do_when_there_are_none(city, fleet):
    tomorrow = (TODAY + datetime.timedelta(days=1)).isoformat()
    html = logged_in(city.hauler).get(reverse("web:dispatch-home"), {"date": tomorrow}).content.decode()
    assert fleet["morning"].site.name not in html
    assert "No open pickup" in html


def test_it_queues_a_plan_and_shows_its_progress(city, fleet):
    client = logged_in(city.hauler)
    response, delay = plan_post(client, date=TODAY.isoformat(), vehicles=[fleet["truck"].pk])
    plan = RoutePlan.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("web:dispatch-plan", args=[plan.pk])
    assert plan.request["vehicles"] == [fleet["truck"].pk]
    assert set(plan.request["pickups"]) == {fleet["morning"].pk, fleet["any_time"].pk}
    page = client.get(response["Location"]).content.decode()
    poll = reverse("web:dispatch-plan-progress", args=[plan.pk])
    assert f'hx-get="{poll}"' in page and "Waiting for a worker" in page
    partial = client.get(poll, HTTP_HX_REQUEST="true")
    assert "<progress" in partial.content.decode() and "HX-Refresh" not in partial
    run_inline(plan.pk)
    finished = client.get(poll, HTTP_HX_REQUEST="true")
    assert finished["HX-Refresh"] == "true"
    assert "hx-get" not in finished.content.decode()


def test_it_refuses_a_day_in_the_past_beside_the_field_and_writes_nothing(city, fleet):
    yesterday = (TODAY - datetime.timedelta(days=1)).isoformat()
    response, delay = plan_post(logged_in(city.hauler), date=yesterday, vehicles=[fleet["van"].pk])
    html = response.content.decode()
    assert response.status_code == 400
    assert re.search(r'id="id_date_error">The date is in the past', html)
    assert f'value="{yesterday}"' in html  # the typed day is kept
    assert re.search(rf'value="{fleet["van"].pk}"[^>]*checked', html)  # and the ticked vehicle
    assert re.search(rf'value="{fleet["truck"].pk}"(?![^>]*checked)', html)
    assert not RoutePlan.objects.exists() and not delay.called


def test_it_asks_for_a_vehicle_when_none_is_ticked(city, fleet):
    response, _ = plan_post(logged_in(city.hauler), date=TODAY.isoformat())
    assert response.status_code == 400
    assert re.search(r'id="id_vehicles_error">Choose at least one vehicle', response.content.decode())
    assert not RoutePlan.objects.exists()


def test_it_says_the_hauler_has_no_vehicle_to_plan_with(city):
    pickup(city.hauler_org, SiteFactory(organisation=city.generator_org, location=city_point()))
    client = logged_in(city.hauler)
    assert "has no active vehicle yet" in client.get(reverse("web:dispatch-home")).content.decode()
    response, _ = plan_post(client, date=TODAY.isoformat())
    assert response.status_code == 400
    assert re.search(r'id="id_vehicles_error">This hauler has no active vehicle', response.content.decode())
    assert not RoutePlan.objects.exists()


def test_it_says_in_chinese_what_is_wrong_with_a_malformed_day(city, fleet):
    client = logged_in(city.hauler, "zh-hans")
    response, _ = plan_post(client, date="明天", vehicles=[fleet["truck"].pk])
    html = response.content.decode()
    assert response.status_code == 400
    assert "请输入日期，例如 2026-03-01。" in html and "请更正以下 1 处错误" in html
    assert 'value="明天"' in html
    missing, _ = plan_post(client, date="", vehicles=[fleet["truck"].pk])
    assert "请输入要计划的日期。" in missing.content.decode()
    unknown, _ = plan_post(client, date=TODAY.isoformat(), vehicles=[99999])
    assert "不是本运输单位的在用车辆" in unknown.content.decode()
    assert not RoutePlan.objects.exists()


def test_it_shows_a_finished_plan_with_coloured_routes_stops_and_reasons(city, fleet):
    too_big = pickup(city.hauler_org, SiteFactory(organisation=city.generator_org, location=city_point()), kg=5000)
    plan = finished_plan(city, fleet)
    html = logged_in(city.hauler).get(reverse("web:dispatch-plan", args=[plan.pk])).content.decode()
    routes = plan.result["routes"]
    assert routes
    for route in routes:
        assert route["vehicle"]["plate"] in html
        for stop in route["stops"]:
            eta = datetime.datetime.fromisoformat(stop["eta"]).astimezone(
                datetime.timezone(datetime.timedelta(hours=8))
            )
            assert eta.strftime("%H:%M") in html  # ETAs in the city's time (Asia/Shanghai)
    assert too_big.site.name in html
    assert "The quantity is more than any suitable vehicle carries." in html
    config = json.loads(re.search(r'<script id="plan-map" type="application/json">(.*?)</script>', html, re.S)[1])
    lines = next(layer for layer in config["layers"] if layer["id"] == "routes")["data"]["features"]
    assert len(lines) == len(routes)
    assert len({f["properties"]["color"] for f in lines}) == len(lines)  # each vehicle its own colour
    left_out = next(layer for layer in config["layers"] if layer["id"] == "unassigned")["data"]["features"]
    assert [f["properties"]["title"] for f in left_out] == [too_big.site.name]
    assert 'name="driver_' in html  # ready to dispatch


def test_it_dispatches_a_plan_to_the_chosen_drivers(city, fleet):
    plan = finished_plan(city, fleet)
    client = logged_in(city.hauler)
    vehicles = [r["vehicle"]["id"] for r in plan.result["routes"]]
    to_dispatch = re.compile(r'<span class="badge( hot)?">(\d+)</span> plans to dispatch')
    assert to_dispatch.search(client.get(reverse("web:dispatch-home")).content.decode())[2] == "1"
    response = client.post(
        reverse("web:dispatch-plan-dispatch", args=[plan.pk]), {f"driver_{v}": "wang" for v in vehicles}
    )
    assert response.status_code == 302
    assert Trip.objects.filter(plan=plan, driver=fleet["driver"]).count() == len(vehicles)
    assert set(Pickup.objects.values_list("status", flat=True)) <= {"dispatched", "open"}
    page = client.get(response["Location"]).content.decode()
    assert "Dispatched: " in page and 'id="trips"' in page and 'name="driver_' not in page
    assert to_dispatch.search(client.get(reverse("web:dispatch-home")).content.decode())[2] == "0"
    again = client.post(
        reverse("web:dispatch-plan-dispatch", args=[plan.pk]), {f"driver_{v}": "wang" for v in vehicles}
    )
    assert "already been dispatched" in client.get(again["Location"]).content.decode()
    assert Trip.objects.count() == len(vehicles)


def test_it_asks_for_each_missing_driver_and_writes_nothing(city, fleet):
    plan = finished_plan(city, fleet)
    vehicles = [r["vehicle"]["id"] for r in plan.result["routes"]]
    response = logged_in(city.hauler).post(
        reverse("web:dispatch-plan-dispatch", args=[plan.pk]), {f"driver_{v}": "" for v in vehicles}
    )
    html = response.content.decode()
    assert response.status_code == 400
    for route in plan.result["routes"]:
        assert f"Choose a driver for {route['vehicle']['plate']}." in html
    assert not Trip.objects.exists()
    assert set(Pickup.objects.values_list("status", flat=True)) == {"open"}


def test_it_shows_another_haulers_plan_as_a_framed_404_and_lets_nothing_through(city, fleet, rival):
    client = logged_in(city.hauler)
    plan = rival["plan"]
    for name in ("web:dispatch-plan", "web:dispatch-plan-progress"):
        response = client.get(reverse(name, args=[plan.pk]))
        assert response.status_code == 404
        assert 'class="brand"' in response.content.decode()  # in the product's frame
    refused = client.post(reverse("web:dispatch-plan-dispatch", args=[plan.pk]), {})
    assert refused.status_code == 404
    assert not Trip.objects.exists()
    html = client.get(reverse("web:dispatch-home")).content.decode()
    assert reverse("web:dispatch-plan", args=[plan.pk]) not in html


def test_it_shows_the_fleet_and_its_licences_but_not_another_haulers(city, fleet, rival):
    licence(city.hauler_org)
    html = logged_in(city.hauler).get(reverse("web:dispatch-fleet")).content.decode()
    assert "津A·T001" in html and "津A·T002" in html and "津B·R001" not in html
    assert f"L-{city.hauler_org.pk}-1" in html
    assert fleet["depot"].name in html and "wang" in html


def test_it_keeps_other_roles_out_with_a_framed_403(city):
    response = logged_in(city.generator).get(reverse("web:dispatch-home"))
    assert response.status_code == 403
    assert 'class="brand"' in response.content.decode()


def test_it_paginates_a_long_list_of_pickups(city, fleet):
    site = SiteFactory(organisation=city.generator_org, location=city_point())
    for _ in range(30):
        pickup(city.hauler_org, site, kg=10)
    client = logged_in(city.hauler)
    first = client.get(reverse("web:dispatch-home")).content.decode()
    assert "Page 1 of 2 (32 items)" in first
    assert len(re.findall(r"<tr>\s*<td data-label=\"Date\"", first)) == 25
    second = client.get(reverse("web:dispatch-home"), {"page": 2}).content.decode()
    assert len(re.findall(r"<tr>\s*<td data-label=\"Date\"", second)) == 7


def test_it_shows_a_failed_plan_with_its_error_and_a_way_back(city, fleet):
    with mock.patch("logistics.tasks.plan_run_task.delay"):
        plan = plan_request(user=city.hauler, hauler=city.hauler_org, date=TODAY)
    with mock.patch("logistics.services.plans.plan_solve", side_effect=RuntimeError("matrix service down")):
        run_inline(plan.pk)
    html = logged_in(city.hauler).get(reverse("web:dispatch-plan", args=[plan.pk])).content.decode()
    assert "The job failed:" in html and "matrix service down" in html
    assert "hx-get" not in html and reverse("web:dispatch-home") in html
    refused = logged_in(city.hauler).post(reverse("web:dispatch-plan-dispatch", args=[plan.pk]), {})
    assert refused.status_code == 302 and not Trip.objects.exists()


def test_it_lets_a_viewer_look_but_not_plan(city, fleet):
    viewer = UserFactory(username="looker")
    MembershipFactory(user=viewer, organisation=city.hauler_org, role=MemberRole.VIEWER)
    client = logged_in(viewer)
    html = client.get(reverse("web:dispatch-home")).content.decode()
    assert "read-only membership" in html and 'name="vehicles"' not in html
    response, delay = plan_post(client, date=TODAY.isoformat(), vehicles=[fleet["truck"].pk])
    assert response.status_code == 403 and 'class="brand"' in response.content.decode()
    assert not RoutePlan.objects.exists() and not delay.called


def test_it_shows_a_plan_only_while_acting_for_its_hauler(city, fleet, rival):
    # A member of two haulers: acting for the city hauler, the rival's plan is not reachable by URL.
    MembershipFactory(user=city.hauler, organisation=rival["org"], role=MemberRole.ADMIN)
    client = logged_in(city.hauler)
    client.post(reverse("web:acting-org"), {"organisation": city.hauler_org.pk})
    plan = rival["plan"]
    assert client.get(reverse("web:dispatch-plan", args=[plan.pk])).status_code == 404
    assert client.post(reverse("web:dispatch-plan-dispatch", args=[plan.pk]), {}).status_code == 404
    assert not Trip.objects.exists()
    client.post(reverse("web:acting-org"), {"organisation": rival["org"].pk})
    assert client.get(reverse("web:dispatch-plan", args=[plan.pk])).status_code == 200
