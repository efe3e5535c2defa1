"""Emergency command pages with Django's test client: the public report page, the incident page,
dispatch from it, the live vehicles feed and who may see what."""

from __future__ import annotations

import io

import pytest
from django.test import Client
from PIL import Image

from emergency.models import Dispatch, Incident, IncidentEntry
from logistics.models import Trip
from tests.conftest import client_for
from tests.emergency.helpers import SPILL, scene, spill

pytestmark = pytest.mark.django_db


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _png() -> io.BytesIO:
    out = io.BytesIO()
    Image.new("RGB", (16, 16), "#0a0").save(out, format="PNG")
    out.seek(0)
    out.name = "dump.png"
    return out


REPORT = {"kind": "illegal_dumping", "lon": "117.2", "lat": "39.12", "description": "Rubble by the canal"}


def test_it_takes_a_citizens_report_with_a_photo_without_login(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path

    answer = Client().post("/report/", {**REPORT, "photo": _png(), "contact": "138 0000 0000"})

    assert answer.status_code == 200
    incident = Incident.objects.get()
    assert b"Thank you" in answer.content and str(incident.pk).encode() in answer.content
    assert incident.public and incident.reported_by is None and incident.photo.name.startswith("incidents/")
    assert incident.contact == "138 0000 0000"
    assert IncidentEntry.objects.filter(incident=incident, kind="reported").count() == 1


def test_it_shows_the_report_form_s_photo_limit_in_the_reader_s_language(settings):
    # The limit is formatted per request: formatted at import, it stayed English on the Chinese page.
    settings.INCIDENT_PHOTO_MAX_BYTES = 3 * 2**20
    chinese = Client().get("/report/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    english = Client().get("/report/", HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert "JPEG、PNG 或 WebP，最大 3 MB" in chinese and "at most" not in chinese
    assert "JPEG, PNG or WebP, at most 3 MB" in english


def test_it_puts_a_missing_point_and_a_non_image_beside_their_fields(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    text = io.BytesIO(b"plain text, not a photo")
    text.name = "dump.jpg"

    answer = Client().post("/report/", {"kind": "illegal_dumping", "lat": "39.12", "photo": text})

    assert answer.status_code == 400
    html = answer.content.decode()
    assert 'id="id_lon_error"' in html
    assert "Upload a valid image" in html
    assert not Incident.objects.exists()


def test_it_refuses_a_photo_too_large_beside_the_field(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.INCIDENT_PHOTO_MAX_BYTES = 40  # the 16 px PNG is larger
    answer = Client().post("/report/", {**REPORT, "photo": _png()})
    assert answer.status_code == 400
    assert "at most" in answer.content.decode()
    assert not Incident.objects.exists()


def test_it_answers_too_many_reports_from_one_address_with_a_429_page(settings):
    settings.INCIDENT_REPORTS_PER_HOUR = 2
    client = Client()
    for _ in range(2):
        assert client.post("/report/", REPORT, REMOTE_ADDR="10.1.2.3").status_code == 200

    refused = client.post("/report/", REPORT, REMOTE_ADDR="10.1.2.3")
    other = client.post("/report/", REPORT, REMOTE_ADDR="10.9.9.9")

    assert refused.status_code == 429 and "Too many reports" in refused.content.decode()
    assert other.status_code == 200
    assert Incident.objects.count() == 3


def test_it_shows_the_incident_with_its_timeline_and_ranking_and_dispatches_from_it(city, catalogs):
    s = scene(city)
    incident = spill(client_for(city.generator))
    regulator = logged_in(city.regulator)

    page = regulator.get(f"/command/incidents/{incident['id']}/")

    assert page.status_code == 200
    html = page.content.decode()
    assert html.index(s.fitted.plate) < html.index(s.farther.plate)
    assert s.rogue.plate not in html and s.unfitted.plate not in html
    assert "Oil drums leaking" in html
    done = regulator.post(
        f"/command/incidents/{incident['id']}/dispatch/", {"vehicle": s.fitted.pk, "site": s.permitted.pk}
    )
    assert done.status_code == 302
    trip = Trip.objects.get(vehicle=s.fitted)
    assert trip.driver == s.ana and [st.kind for st in trip.stops.order_by("sequence")] == ["incident", "unload"]
    after = regulator.get(f"/command/incidents/{incident['id']}/").content.decode()
    assert "Vehicle dispatched" in after and "Resources dispatched" in after


def test_it_shows_why_an_unlicensed_vehicle_cannot_be_dispatched(city, catalogs):
    s = scene(city)
    incident = spill(client_for(city.generator))

    answer = logged_in(city.regulator).post(f"/command/incidents/{incident['id']}/dispatch/", {"vehicle": s.rogue.pk})

    assert answer.status_code == 400
    assert "no licence in force for hazardous" in answer.content.decode()
    assert not Dispatch.objects.exists() and not Trip.objects.exists()


def test_it_feeds_each_operator_its_own_fleet_and_refuses_others(city, catalogs):
    s = scene(city)

    hauler = logged_in(city.hauler).get("/command/vehicles.json").json()
    regulator = logged_in(city.regulator).get("/command/vehicles.json").json()

    plates = sorted(f["properties"]["title"] for f in hauler["features"])
    assert plates == sorted([s.fitted.plate, s.farther.plate, s.unfitted.plate])
    assert s.rogue.plate in [f["properties"]["title"] for f in regulator["features"]]
    assert logged_in(city.generator).get("/command/vehicles.json").status_code == 403
    assert Client().get("/command/").status_code == 302  # to the login page


def test_it_shows_the_command_map_with_open_incidents(city, catalogs):
    scene(city)
    incident = spill(client_for(city.generator))

    page = logged_in(city.regulator).get("/command/")

    assert page.status_code == 200
    html = page.content.decode()
    assert f"/command/incidents/{incident['id']}/" in html
    assert '"refreshUrl": "/command/vehicles.json"' in html
    assert SPILL[0] == pytest.approx(117.2)


def test_it_takes_a_members_report_and_opens_its_page(city):
    regulator = logged_in(city.regulator)

    missing = regulator.post("/command/incidents/new/", {"kind": "fire", "lat": "39.12"})
    assert missing.status_code == 400 and 'id="id_lon_error"' in missing.content.decode()
    assert not Incident.objects.exists()

    done = regulator.post("/command/incidents/new/", {"kind": "fire", "lon": "117.21", "lat": "39.12"})

    incident = Incident.objects.get()
    assert done.status_code == 302 and done["Location"] == f"/command/incidents/{incident.pk}/"
    assert incident.organisation == city.regulator_org and incident.reported_by == city.regulator
    assert not incident.public


def test_it_offers_a_map_picker_of_the_public_sites_on_both_report_forms(city):
    # city.transfer receives waste (public directory); city.generation_site is an enterprise's own.
    for client, url in ((Client(), "/report/"), (logged_in(city.generator), "/command/incidents/new/")):
        html = client.get(url).content.decode()

        assert 'data-point-picker data-lon="id_lon" data-lat="id_lat"' in html, url
        assert "web/picker.js" in html and "maplibre-gl-csp.js" in html
        assert city.transfer.name in html and city.generation_site.name not in html
        assert 'name="lon"' in html and 'name="lat"' in html  # typing stays the fallback
