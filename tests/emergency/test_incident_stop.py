"""The dispatched driver answers an incident's stop of the round: arrived, then done, each on the
incident's timeline, once, whatever the retries."""

from __future__ import annotations

import pytest

from emergency.models import IncidentEntry
from logistics.models import Trip, TripStop
from tests.conftest import client_for
from tests.emergency.helpers import scene, spill

pytestmark = pytest.mark.django_db


def dispatched(city):
    s = scene(city)
    incident = spill(client_for(city.generator))
    answer = client_for(city.regulator).post(
        f"/api/v1/incidents/{incident['id']}/dispatch/", {"vehicle": s.fitted.pk}, format="json"
    )
    assert answer.status_code == 201, answer.content
    return s, incident, Trip.objects.get(pk=answer.json()["trip"])


def test_it_shows_the_incident_on_the_round_and_records_arrival_and_done_on_the_timeline(city, catalogs):
    s, incident, trip = dispatched(city)
    ana = client_for(s.ana)
    [round_] = ana.get("/api/v1/trips/today/").json()["results"]
    stop = round_["stops"][0]
    assert stop["kind"] == "incident"
    assert stop["incident"]["id"] == incident["id"] and stop["incident"]["kind_label"] == "Spill"
    assert stop["incident"]["description"] == "Oil drums leaking at the roadside"
    assert stop["incident"]["arrived"] is False
    assert round_["stops"][1]["incident"] is None  # the unload stop after it

    url = f"/api/v1/trips/{trip.pk}/stops/1/incident/"
    first = ana.post(url, {"action": "arrived"}, format="json", HTTP_IDEMPOTENCY_KEY="k-arrived")
    assert first.status_code == 200, first.content
    again = ana.post(url, {"action": "arrived"}, format="json", HTTP_IDEMPOTENCY_KEY="k-arrived")
    assert again.status_code == 200 and again.json() == first.json()  # a retry: the first answer, nothing written
    twice = ana.post(url, {"action": "arrived"}, format="json", HTTP_IDEMPOTENCY_KEY="k-other")
    assert twice.status_code == 409 and "already recorded" in twice.json()["error"]["message"]
    assert ana.get("/api/v1/trips/today/").json()["results"][0]["stops"][0]["incident"]["arrived"] is True

    done = ana.post(url, {"action": "done"}, format="json", HTTP_IDEMPOTENCY_KEY="k-done")
    assert done.status_code == 200 and done.json()["status"] == "done"
    assert ana.post(url, {"action": "done"}, format="json", HTTP_IDEMPOTENCY_KEY="k-done").status_code == 200

    timeline = client_for(city.regulator).get(f"/api/v1/incidents/{incident['id']}/").json()["timeline"]
    assert [e["kind"] for e in timeline] == ["reported", "dispatch", "arrived", "cleared"]
    assert s.fitted.plate in timeline[2]["text"] and "on site" in timeline[2]["text"]
    assert IncidentEntry.objects.filter(incident_id=incident["id"], kind="arrived").count() == 1
    trip.refresh_from_db()
    assert trip.status == "done"  # nothing left to collect or answer: tracking stops on the phone


def test_it_refuses_a_pickup_stop_an_unknown_action_and_another_hauler(city, catalogs):
    s, incident, trip = dispatched(city)
    ana = client_for(s.ana)
    url = f"/api/v1/trips/{trip.pk}/stops/%d/incident/"
    unload = ana.post(url % 2, {"action": "done"}, format="json")
    assert unload.status_code == 400 and "sequence" in unload.json()["error"]["fields"]
    wrong = ana.post(url % 1, {"action": "dance"}, format="json")
    assert wrong.status_code == 400 and "action" in wrong.json()["error"]["fields"]
    rogue = client_for(s.rogue_org.memberships.first().user).post(url % 1, {"action": "done"}, format="json")
    assert rogue.status_code == 404
    assert TripStop.objects.get(trip=trip, sequence=1).status == "pending"
    assert not IncidentEntry.objects.filter(incident_id=incident["id"], kind__in=["arrived", "cleared"]).exists()
