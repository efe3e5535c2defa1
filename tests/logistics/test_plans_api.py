"""Planning: the request, bad inputs reported per pickup, malformed requests, failures, scoping."""

from __future__ import annotations

from unittest import mock

import pytest

from logistics.models import RoutePlan
from tests.conftest import client_for
from tests.factories import ELSEWHERE_BBOX, SiteFactory, city_point
from tests.logistics.helpers import TODAY, check_routes, depot, licence, permit, pickup, run_inline, vehicle
from waste.models import OutboxMessage, SiteKind

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _quick(settings):
    settings.ROUTING_SOLVER_SECONDS = 1


@pytest.fixture
def fleet(city):
    home = depot(city.hauler_org)
    permit(city.transfer, ["HW08"])
    return {
        "depot": home,
        "truck": vehicle(city.hauler_org, home, "T-1", kg=1000),
        "van": vehicle(city.hauler_org, home, "T-2", kg=600),
    }


def plan_for(city, client=None, **body):
    client = client or client_for(city.hauler)
    with mock.patch("logistics.tasks.plan_run_task.delay") as delay:
        made = client.post(
            "/api/v1/routes/plans/", {"date": TODAY.isoformat(), "hauler": city.hauler_org.pk, **body}, format="json"
        )
    return made, delay


def planned(city, **body) -> dict:
    made, _ = plan_for(city, **body)
    assert made.status_code == 202, made.content
    run_inline(made.json()["id"])
    return client_for(city.hauler).get(f"/api/v1/routes/plans/{made.json()['id']}/").json()


def sites(city, n, kind=SiteKind.COLLECTION_POINT):
    return [SiteFactory(organisation=city.operator_org, kind=kind, location=city_point()) for _ in range(n)]


def test_it_queues_a_plan_and_enqueues_the_job_after_commit(city, fleet, django_capture_on_commit_callbacks):
    pickup(city.hauler_org, sites(city, 1)[0])
    with (
        mock.patch("config.celery.app.send_task") as send_task,
        django_capture_on_commit_callbacks(execute=True) as callbacks,
    ):
        made = client_for(city.hauler).post(
            "/api/v1/routes/plans/", {"date": TODAY.isoformat(), "hauler": city.hauler_org.pk}, format="json"
        )
    assert made.status_code == 202, made.content
    assert len(callbacks) == 1
    send_task.assert_called_once_with("logistics.tasks.plan_run_task", args=[made.json()["id"]], kwargs={}, retry=False)
    assert OutboxMessage.objects.get().sent_at is not None
    assert RoutePlan.objects.get().status == "queued"


def test_it_plans_every_open_pickup_within_capacity_and_time_windows(city, fleet):
    points = sites(city, 6)
    for i, site in enumerate(points):
        pickup(city.hauler_org, site, kg=250, window=("08:00", "12:00") if i % 2 else None)
    body = planned(city)
    assert body["status"] == "done" and body["progress"] == 100, body
    assert body["unassigned"] == []
    check_routes(body)
    served = [s for r in body["routes"] for s in r["stops"] if s["kind"] == "pickup"]
    assert len(served) == 6
    for s in served:
        assert s["destination"]["id"] == city.plant.pk  # general waste: nearest treatment/disposal site
    for r in body["routes"]:
        unload = [s for s in r["stops"] if s["kind"] == "unload"]
        assert {s["site"]["id"] for s in unload} == {city.plant.pk}


def test_it_sends_hazardous_waste_only_on_licensed_vehicles_to_a_permitted_site(city, fleet):
    licence(city.hauler_org)
    hazmat = vehicle(city.hauler_org, fleet["depot"], "H-1", kg=1000, classes=("hazardous",))
    oil = pickup(
        city.hauler_org,
        sites(city, 1, SiteKind.GENERATION)[0],
        kg=300,
        klass="hazardous",
        code="900-249-08",
        category="HW08",
    )
    pickup(city.hauler_org, sites(city, 1)[0], kg=300)
    body = planned(city)
    assert body["unassigned"] == []
    [route] = [r for r in body["routes"] if any(s["pickup"] == oil.pk for s in r["stops"])]
    assert route["vehicle"]["id"] == hazmat.pk
    assert [s["site"]["id"] for s in route["stops"] if s["kind"] == "unload"] == [city.transfer.pk]


def test_it_reports_each_impossible_pickup_with_its_reason(city, fleet):
    far = SiteFactory(
        organisation=city.operator_org, kind=SiteKind.COLLECTION_POINT, location=city_point(ELSEWHERE_BBOX)
    )
    a, b, c, d = sites(city, 4)
    outside = pickup(city.hauler_org, far, kg=100)
    too_early = pickup(city.hauler_org, a, kg=100, window=("00:00", "00:10"))
    too_big = pickup(city.hauler_org, b, kg=5000)
    hazardous = pickup(city.hauler_org, c, kg=100, klass="hazardous", code="900-249-08", category="HW08")
    fine = pickup(city.hauler_org, d, kg=100)
    body = planned(city)
    reasons = {u["pickup"]: u["code"] for u in body["unassigned"]}
    assert reasons == {
        outside.pk: "outside_area",
        too_early.pk: "time_window_unreachable",
        too_big.pk: "demand_exceeds_capacity",
        hazardous.pk: "no_licensed_vehicle",
    }
    assert all(u["message"] for u in body["unassigned"])
    assert {u["pickup"]: u["reason"] for u in body["unassigned"]}[outside.pk] == (
        "The pickup lies outside the planning area."
    )
    chinese = client_for(city.hauler).get(f"/api/v1/routes/plans/{body['id']}/", HTTP_ACCEPT_LANGUAGE="zh-CN")
    assert {u["pickup"]: u["reason"] for u in chinese.json()["unassigned"]} == {
        outside.pk: "该收运点位于规划区域之外。",
        too_early.pk: "没有适用车辆能在时间窗内到达该收运点。",
        too_big.pk: "该收运量超过任何适用车辆的载量。",
        hazardous.pk: "没有车辆具备运输此类废物的资质。",
    }
    assert chinese.json()["message"] == "已完成" and body["message"] == "done"
    assert [s["pickup"] for r in body["routes"] for s in r["stops"] if s["kind"] == "pickup"] == [fine.pk]
    kinds = {f["properties"]["kind"] for f in body["geojson"]["features"]}
    assert {"route", "pickup", "unload", "unassigned"} <= kinds


def test_it_reports_pickups_unassigned_when_the_only_vehicle_has_no_capacity(city):
    home = depot(city.hauler_org)
    empty = vehicle(city.hauler_org, home, "Z-0", kg=0)
    p = pickup(city.hauler_org, sites(city, 1)[0], kg=100)
    body = planned(city, vehicles=[empty.pk])
    assert body["status"] == "done"
    assert body["unassigned"] == [
        {"pickup": p.pk, "code": "no_vehicle", "message": mock.ANY, "reason": "No usable vehicle in the fleet."}
    ]
    assert any("zero capacity" in w for w in body["warnings"])


def test_it_reports_a_pickup_with_no_destination(city, fleet):
    p = pickup(city.hauler_org, sites(city, 1)[0], kg=100, klass="hazardous", code="261-151-50", category="HW50")
    body = planned(city)
    assert body["unassigned"][0]["pickup"] == p.pk and body["unassigned"][0]["code"] == "no_destination"


def test_it_rejects_malformed_requests_with_field_paths(city, fleet):
    made, delay = plan_for(city, date="tomorrow", hauler="x", vehicles=["a"], pickups="all")
    assert made.status_code == 400
    assert {"date", "hauler", "vehicles.0", "pickups"} <= set(made.json()["error"]["fields"])
    assert not RoutePlan.objects.exists()


def test_it_rejects_unknown_vehicles_and_pickups_with_field_paths(city, fleet):
    made, _ = plan_for(city, vehicles=[fleet["truck"].pk, 99999], pickups=[88888])
    assert made.status_code == 400
    assert set(made.json()["error"]["fields"]) == {"vehicles.1"}
    made, _ = plan_for(city, pickups=[88888])
    assert set(made.json()["error"]["fields"]) == {"pickups.0"}


def test_it_ends_a_failed_job_failed_with_the_reason(city, fleet):
    pickup(city.hauler_org, sites(city, 1)[0])
    made, _ = plan_for(city)
    with mock.patch("logistics.services.plans.get_solver", side_effect=RuntimeError("solver exploded")):
        plan = run_inline(made.json()["id"])
    assert plan.status == "failed" and "solver exploded" in plan.error
    body = client_for(city.hauler).get(f"/api/v1/routes/plans/{plan.pk}/").json()
    assert body["status"] == "failed" and "solver exploded" in body["error"]


def test_it_runs_a_plan_only_once(city, fleet):
    pickup(city.hauler_org, sites(city, 1)[0])
    made, _ = plan_for(city)
    run_inline(made.json()["id"])
    from logistics.services.plans import plan_run

    assert plan_run(plan_id=made.json()["id"]) is False


def test_it_hides_plans_and_refuses_planning_for_outsiders(city, fleet):
    pickup(city.hauler_org, sites(city, 1)[0])
    made, _ = plan_for(city)
    plan_id = made.json()["id"]
    outsider = client_for(city.outsider)
    assert outsider.get(f"/api/v1/routes/plans/{plan_id}/").status_code == 404
    refused, _ = plan_for(city, client=outsider)
    assert refused.status_code == 403
    assert outsider.get("/api/v1/vehicles/").json()["results"] == []
    assert outsider.post(f"/api/v1/routes/plans/{plan_id}/dispatch/", {}, format="json").status_code == 404


def test_it_refuses_to_plan_a_day_already_past(city, fleet):
    import datetime

    made, delay = plan_for(city, date=(TODAY - datetime.timedelta(days=1)).isoformat())
    assert made.status_code == 400
    assert made.json()["error"]["code"] == "past_date" and set(made.json()["error"]["fields"]) == {"date"}
    assert not RoutePlan.objects.exists() and not delay.called


def test_it_refuses_a_plan_without_any_vehicle(city):
    made, delay = plan_for(city)  # the hauler has no vehicle at all
    assert made.status_code == 400
    assert made.json()["error"]["code"] == "no_vehicles" and set(made.json()["error"]["fields"]) == {"vehicles"}
    none_named, _ = plan_for(city, vehicles=[])
    assert none_named.status_code == 400 and set(none_named.json()["error"]["fields"]) == {"vehicles"}
    assert not RoutePlan.objects.exists() and not delay.called
