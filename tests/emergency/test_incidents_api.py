"""Incidents through the API: reported, ranked, dispatched onto a driver's round, moved to closed."""

from __future__ import annotations

import io

import pytest
from django.db import connection, transaction
from django.db.utils import DatabaseError
from PIL import Image

from emergency.models import Dispatch, Incident, IncidentEntry
from logistics.models import Trip, TripStop
from tests.conftest import client_for
from tests.emergency.helpers import OIL, SPILL, scene, spill
from waste.models import Webhook, WebhookDelivery

pytestmark = pytest.mark.django_db


def test_it_ranks_the_nearest_licensed_vehicle_and_permitted_site_first_and_dispatches_onto_the_round(city, catalogs):
    s = scene(city)
    regulator = client_for(city.regulator)
    incident = spill(client_for(city.generator))
    assert incident["status"] == "reported" and incident["waste_class"] == "hazardous"
    assert incident["waste_code"] == OIL

    ranked = regulator.get(f"/api/v1/incidents/{incident['id']}/resources/").json()

    plates = [v["plate"] for v in ranked["vehicles"]]
    # The rogue truck (no licence) and the general-only truck are nearer, but cannot carry oil.
    assert plates == [s.fitted.plate, s.farther.plate]
    first = ranked["vehicles"][0]
    assert first["metres"] == pytest.approx(800 * 1.3, rel=0.02) and first["seconds"] > 0  # straight line x detour
    assert any("Licensed for hazardous" in r for r in first["reasons"])
    assert any("Free" in r for r in first["reasons"])
    sites = [x["id"] for x in ranked["sites"]]
    assert sites == [s.permitted.pk, s.far_site.pk]  # the nearer transfer station holds no permit for HW08
    assert any("Permit" in r for r in ranked["sites"][0]["reasons"])

    hook = Webhook.objects.create(organisation=city.hauler_org, url="http://127.0.0.1:9/hook", secret="s3")
    answer = regulator.post(f"/api/v1/incidents/{incident['id']}/dispatch/", {"vehicle": s.fitted.pk}, format="json")

    assert answer.status_code == 201, answer.content
    assert answer.json()["driver"] == "ana" and answer.json()["site"] == s.permitted.pk
    round_ = client_for(s.ana).get("/api/v1/trips/today/").json()["results"]
    assert len(round_) == 1
    stops = round_[0]["stops"]
    assert [st["kind"] for st in stops] == ["incident", "unload"]
    assert stops[0]["location"] == pytest.approx(list(SPILL))
    assert stops[1]["site"] == s.permitted.pk
    detail = regulator.get(f"/api/v1/incidents/{incident['id']}/").json()
    assert detail["status"] == "dispatched"
    assert [e["kind"] for e in detail["timeline"]] == ["reported", "dispatch"]
    assert s.fitted.plate in detail["timeline"][1]["text"]
    again = regulator.get(f"/api/v1/incidents/{incident['id']}/resources/").json()
    assert [v["plate"] for v in again["vehicles"]] == [s.farther.plate]  # the one sent is not offered twice
    [delivery] = WebhookDelivery.objects.filter(webhook=hook)
    assert delivery.event == "incident.dispatched"
    assert delivery.payload["dispatch"]["plate"] == s.fitted.plate


def test_it_refuses_to_dispatch_a_vehicle_not_licensed_for_the_waste(city, catalogs):
    s = scene(city)
    incident = spill(client_for(city.generator))
    regulator = client_for(city.regulator)

    answer = regulator.post(f"/api/v1/incidents/{incident['id']}/dispatch/", {"vehicle": s.rogue.pk}, format="json")

    assert answer.status_code == 400, answer.content
    body = answer.json()
    assert body["error"]["code"] == "vehicle_not_capable"
    assert "no licence in force for hazardous" in " ".join(body["error"]["fields"]["vehicle"])
    assert not Dispatch.objects.exists() and not Trip.objects.exists() and not TripStop.objects.exists()
    assert IncidentEntry.objects.count() == 1
    assert Incident.objects.get().status == "reported"


def test_it_refuses_a_vehicle_not_fitted_for_the_class(city, catalogs):
    s = scene(city)
    incident = spill(client_for(city.generator))

    answer = client_for(city.regulator).post(
        f"/api/v1/incidents/{incident['id']}/dispatch/", {"vehicle": s.unfitted.pk}, format="json"
    )

    assert answer.status_code == 400
    assert "not fitted for hazardous" in " ".join(answer.json()["error"]["fields"]["vehicle"])
    assert not Trip.objects.exists()


def test_it_rejects_an_incident_without_a_point_or_of_an_unknown_kind(city):
    client = client_for(city.generator)

    answer = client.post("/api/v1/incidents/", {"kind": "volcano"}, format="json")

    assert answer.status_code == 400
    fields = answer.json()["error"]["fields"]
    assert "point" in fields and "kind" in fields
    assert not Incident.objects.exists()


def test_it_rejects_an_unknown_waste_code(city, catalogs):
    answer = client_for(city.generator).post(
        "/api/v1/incidents/",
        {"kind": "spill", "point": {"type": "Point", "coordinates": list(SPILL)}, "waste_code": "999-999-99"},
        format="json",
    )
    assert answer.status_code == 400
    assert "waste_code" in answer.json()["error"]["fields"]
    assert not Incident.objects.exists()


def _png(size=(20, 20)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, "#c00").save(out, format="PNG")
    return out.getvalue()


def test_it_keeps_a_photo_and_refuses_one_that_is_not_an_image_or_too_large(city, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.INCIDENT_PHOTO_MAX_BYTES = 50_000
    client = client_for(city.generator)
    form = {"kind": "illegal_dumping", "point": '{"type": "Point", "coordinates": [117.2, 39.12]}'}

    text = io.BytesIO(b"not a picture at all")
    text.name = "dump.jpg"
    refused = client.post("/api/v1/incidents/", {**form, "photo": text}, format="multipart")
    big = io.BytesIO(b"\0" * 60_000)
    big.name = "big.png"
    too_large = client.post("/api/v1/incidents/", {**form, "photo": big}, format="multipart")
    assert refused.status_code == 400, refused.content
    assert refused.json()["error"]["fields"]["photo"]
    assert too_large.status_code == 413 and "at most" in too_large.json()["error"]["fields"]["photo"][0]
    assert not Incident.objects.exists()

    photo = io.BytesIO(_png())
    photo.name = "dump.png"
    kept = client.post("/api/v1/incidents/", {**form, "photo": photo}, format="multipart")
    assert kept.status_code == 201, kept.content
    stored = Incident.objects.get()
    assert stored.photo.name.startswith("incidents/") and stored.photo.read() == _png()


def test_it_moves_through_the_lifecycle_and_refuses_a_skipped_step(city, catalogs):
    incident = spill(client_for(city.generator))
    regulator = client_for(city.regulator)
    url = f"/api/v1/incidents/{incident['id']}/actions/"

    contained_too_early = regulator.post(url, {"action": "contain"}, format="json")
    assert contained_too_early.status_code == 409
    assert regulator.post(url, {"action": "acknowledge"}, format="json").status_code == 200
    note = regulator.post(
        f"/api/v1/incidents/{incident['id']}/notes/", {"text": "Fire brigade informed"}, format="json"
    )
    assert note.status_code == 201
    assert regulator.post(url, {"action": "contain", "note": "Sand barrier"}, format="json").status_code == 200
    closed = regulator.post(url, {"action": "close"}, format="json")

    assert closed.status_code == 200
    timeline = closed.json()["timeline"]
    assert [(e["kind"], e["status"]) for e in timeline] == [
        ("reported", "reported"),
        ("status", "acknowledged"),
        ("note", "acknowledged"),
        ("status", "contained"),
        ("status", "closed"),
    ]
    assert timeline[3]["text"] == "Sand barrier" and timeline[1]["author"] == "regulator"
    assert regulator.post(url, {"action": "close"}, format="json").status_code == 409


def test_it_shows_an_incident_to_its_reporter_and_the_regulator_not_to_an_outsider(city, catalogs):
    incident = spill(client_for(city.generator))

    assert client_for(city.regulator).get(f"/api/v1/incidents/{incident['id']}/").status_code == 200
    assert client_for(city.outsider).get(f"/api/v1/incidents/{incident['id']}/").status_code == 404
    assert client_for(city.outsider).get("/api/v1/incidents/").json()["results"] == []
    outsider_acts = client_for(city.outsider).post(
        f"/api/v1/incidents/{incident['id']}/actions/", {"action": "acknowledge"}, format="json"
    )
    assert outsider_acts.status_code == 404


def test_it_lets_no_one_act_who_is_neither_regulator_nor_hauler(city, catalogs):
    incident = spill(client_for(city.generator))
    answer = client_for(city.generator).post(
        f"/api/v1/incidents/{incident['id']}/actions/", {"action": "acknowledge"}, format="json"
    )
    assert answer.status_code == 403
    assert Incident.objects.get().status == "reported"


def test_it_never_changes_or_removes_a_timeline_entry(city, catalogs):
    spill(client_for(city.generator))
    entry = IncidentEntry.objects.get()
    with pytest.raises(TypeError):
        IncidentEntry.objects.filter(pk=entry.pk).update(text="rewritten")
    with pytest.raises(TypeError):
        entry.delete()


@pytest.mark.postgis
def test_it_has_the_database_refuse_a_rewritten_timeline(city, catalogs):
    spill(client_for(city.generator))
    assert connection.vendor == "postgresql"
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE emergency_incidententry SET text = 'rewritten'")
    assert IncidentEntry.objects.get().text == "Oil drums leaking at the roadside"
