"""Every early-warning rule fires exactly once per cause, however often the scan runs."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.contrib.gis.geos import Point
from django.core import mail
from django.db import transaction
from django.utils import timezone

from tests.conftest import client_for
from tests.waste.test_chain_e2e import permit
from tests.year import driver
from waste.alerts.services import alerts_scan
from waste.models import Alert, Batch, Manifest, Permit
from waste.services.ledger import NewEvent, ledger_append
from waste.services.transitions import Act, batch_act

pytestmark = pytest.mark.django_db
OIL = "900-249-08"


@pytest.fixture(autouse=True)
def locmem_mail(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


@pytest.fixture
def chain(city, catalogs):
    for site in (city.transfer, city.plant):
        permit(site, ["HW08", "SW17"], ["R9", "R4", "D10"])
    city.generator_org.contact_email = "ehs@generator.example"
    city.generator_org.save()
    return city


def ago(**kwargs) -> datetime.datetime:
    return timezone.now() - datetime.timedelta(**kwargs)


def scan_twice(rule: str, django_capture_on_commit_callbacks) -> list[Alert]:
    with django_capture_on_commit_callbacks(execute=True):
        first = alerts_scan(rules=[rule])
    second = alerts_scan(rules=[rule])
    assert second[rule] == 0
    alerts = list(Alert.objects.filter(rule=rule))
    assert first[rule] == len(alerts)
    return alerts


def test_it_raises_an_overdue_manifest_once(chain, django_capture_on_commit_callbacks):
    d = driver()
    batch = d.make(chain.generation_site, OIL, 100, ago(days=20))
    d.ship([batch], to=chain.plant, carrier=chain.hauler_org, when=ago(hours=1), receive=False)
    Manifest.objects.update(receipt_due=timezone.localdate() - datetime.timedelta(days=1))
    [alert] = scan_twice("manifest_overdue", django_capture_on_commit_callbacks)
    assert alert.manifest is not None and alert.organisation == chain.generator_org
    assert mail.outbox[0].to == ["ehs@generator.example"]
    assert alert.manifest.number in mail.outbox[0].body


def test_it_raises_hazardous_storage_beyond_the_limit_once(chain, settings, django_capture_on_commit_callbacks):
    settings.HAZARDOUS_STORAGE_LIMIT_DAYS = 30
    d = driver()
    old = d.make(chain.generation_site, OIL, 100, ago(days=31))
    d.make(chain.generation_site, OIL, 100, ago(days=29))
    d.make(chain.generation_site, "SW17", 100, ago(days=400))  # not hazardous
    [alert] = scan_twice("storage_too_long", django_capture_on_commit_callbacks)
    assert alert.batch == old


def test_it_raises_a_weight_mismatch_once(chain, django_capture_on_commit_callbacks):
    d = driver()
    batch = d.make(chain.generation_site, OIL, 100, ago(days=2))
    d.ship([batch], to=chain.plant, carrier=chain.hauler_org, when=ago(hours=5), weights={batch.code: 120})
    [alert] = scan_twice("weight_mismatch", django_capture_on_commit_callbacks)
    assert alert.batch == batch and "120" in alert.message


def drifted(at):
    return Point(at.x, at.y + 0.009, srid=at.srid)


def test_it_raises_an_off_site_scan_once(chain, django_capture_on_commit_callbacks):
    d = driver()
    batch = d.make(chain.generation_site, OIL, 100, ago(days=2))
    d.ship([batch], to=chain.plant, carrier=chain.hauler_org, when=ago(hours=5), receive=False)
    with transaction.atomic():
        batch_act(
            code=batch.code,
            # About 1 km from the plant: GPS drift is flagged (farther away, the scan would be refused).
            act=Act(user=d.user, action="dropoff", event_time=ago(hours=4), location=drifted(chain.plant.location)),
        )
    [alert] = scan_twice("off_site_scan", django_capture_on_commit_callbacks)
    assert alert.batch == batch


def test_it_raises_a_permit_exceeded_once(chain, django_capture_on_commit_callbacks):
    Permit.objects.filter(site=chain.plant).update(annual_quantity_kg=Decimal("150"))
    d = driver()
    batches = [d.make(chain.generation_site, OIL, 100, ago(days=2)) for _ in range(2)]
    d.ship(batches, to=chain.plant, carrier=chain.hauler_org, when=ago(hours=5))
    [alert] = scan_twice("permit_exceeded", django_capture_on_commit_callbacks)
    assert alert.site == chain.plant and Decimal(alert.data["handled_kg"]) == 200


def test_it_raises_a_capacity_exceeded_once(chain, django_capture_on_commit_callbacks):
    chain.generation_site.storage_capacity_kg = Decimal("150")
    chain.generation_site.save()
    d = driver()
    d.make(chain.generation_site, OIL, 100, ago(days=2))
    assert alerts_scan(rules=["capacity_exceeded"])["capacity_exceeded"] == 0
    d.make(chain.generation_site, OIL, 100, ago(days=1))
    [alert] = scan_twice("capacity_exceeded", django_capture_on_commit_callbacks)
    assert alert.site == chain.generation_site


def test_it_raises_a_vanished_batch_once(chain, settings, django_capture_on_commit_callbacks):
    d = driver()
    gone = d.make(chain.generation_site, OIL, 100, ago(days=5))
    d.ship([gone], to=chain.plant, carrier=chain.hauler_org, when=ago(hours=49), receive=False)
    recent = d.make(chain.generation_site, OIL, 100, ago(days=5))
    d.ship([recent], to=chain.plant, carrier=chain.hauler_org, when=ago(hours=47), receive=False)
    [alert] = scan_twice("vanished", django_capture_on_commit_callbacks)
    assert alert.batch == gone and alert.severity == "critical"


def test_it_raises_treatment_without_intake_once(chain, django_capture_on_commit_callbacks):
    d = driver()
    batch = d.make(chain.generation_site, OIL, 100, ago(days=2))
    [batch] = d.ship([batch], to=chain.plant, carrier=chain.hauler_org, when=ago(hours=5))
    d.treat(batch, "R9", ago(hours=3))  # received there first: fine
    other = d.make(chain.generation_site, OIL, 100, ago(days=2))
    with transaction.atomic():  # e.g. an imported treatment record for a batch the plant never received
        ledger_append(
            events=[
                NewEvent(
                    event_type="treated",
                    organisation=chain.recycler_org,
                    event_time=ago(hours=1),
                    batch=Batch.objects.get(pk=other.pk),
                    site=chain.plant,
                    data={"operation": "R9", "final": True},
                )
            ]
        )
    [alert] = scan_twice("treatment_without_intake", django_capture_on_commit_callbacks)
    assert alert.batch == other and alert.site == chain.plant


def test_it_acknowledges_and_resolves_through_the_api(chain, django_capture_on_commit_callbacks):
    d = driver()
    gone = d.make(chain.generation_site, OIL, 100, ago(days=5))
    d.ship([gone], to=chain.plant, carrier=chain.hauler_org, when=ago(hours=60), receive=False)
    alerts_scan(rules=["vanished"])
    regulator, generator = client_for(chain.regulator), client_for(chain.generator)
    listed = generator.get("/api/v1/alerts/", {"status": "open"}).json()
    assert [a["rule"] for a in listed["results"]] == ["vanished"]
    pk = listed["results"][0]["id"]
    assert regulator.get("/api/v1/alerts/").json()["count"] == 1
    acknowledged = generator.post(f"/api/v1/alerts/{pk}/acknowledge/")
    assert acknowledged.status_code == 200 and acknowledged.json()["status"] == "acknowledged"
    assert generator.post(f"/api/v1/alerts/{pk}/acknowledge/").status_code == 409
    resolved = regulator.post(f"/api/v1/alerts/{pk}/resolve/")
    assert resolved.status_code == 200 and resolved.json()["resolved_by"] == chain.regulator.pk
    assert regulator.post(f"/api/v1/alerts/{pk}/resolve/").status_code == 409
    # Resolved, the cause is still known: the scan does not raise it again.
    assert alerts_scan(rules=["vanished"])["vanished"] == 0


def test_it_hides_the_city_alerts_from_an_outsider(chain):
    d = driver()
    gone = d.make(chain.generation_site, OIL, 100, ago(days=5))
    d.ship([gone], to=chain.plant, carrier=chain.hauler_org, when=ago(hours=60), receive=False)
    alerts_scan()
    outsider = client_for(chain.outsider)
    assert outsider.get("/api/v1/alerts/").json()["count"] == 0
    pk = Alert.objects.get().pk
    assert outsider.post(f"/api/v1/alerts/{pk}/acknowledge/").status_code == 404


def test_it_runs_every_rule_from_the_beat_task(chain):
    from waste.tasks import alerts_scan_task

    counts = alerts_scan_task()
    assert set(counts) >= {
        "manifest_overdue",
        "storage_too_long",
        "weight_mismatch",
        "off_site_scan",
        "permit_exceeded",
        "capacity_exceeded",
        "vanished",
        "treatment_without_intake",
    }


def test_it_shows_a_stored_alert_in_the_readers_language(chain, django_capture_on_commit_callbacks):
    d = driver()
    batch = d.make(chain.generation_site, OIL, 100, ago(days=2))
    d.ship([batch], to=chain.plant, carrier=chain.hauler_org, when=ago(hours=5), weights={batch.code: 120})
    [alert] = scan_twice("weight_mismatch", django_capture_on_commit_callbacks)
    client = client_for(chain.regulator)

    [zh] = client.get("/api/v1/alerts/?rule=weight_mismatch", HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9").json()["results"]
    [en] = client.get("/api/v1/alerts/?rule=weight_mismatch", HTTP_ACCEPT_LANGUAGE="en").json()["results"]

    assert zh["rule"] == en["rule"] == "weight_mismatch" and zh["params"] == en["params"]
    assert zh["title"] == "重量偏差超限" and en["title"] == "Weight mismatch beyond tolerance"
    assert zh["message"] == f"批次 {batch.code} 在“已接收”环节称重为 120.000 千克，偏差超过 2.0% 的允许范围。"
    assert en["message"] == f"{batch.code} weighed 120.000 kg at Received, beyond the 2.0% tolerance."
    assert alert.message == en["message"]  # stored in English as raised, for search and logs


def test_it_writes_the_alert_email_in_chinese_with_english_beside(chain, django_capture_on_commit_callbacks):
    d = driver()
    batch = d.make(chain.generation_site, OIL, 100, ago(days=20))
    d.ship([batch], to=chain.plant, carrier=chain.hauler_org, when=ago(hours=1), receive=False)
    Manifest.objects.update(receipt_due=timezone.localdate() - datetime.timedelta(days=1))
    [alert] = scan_twice("manifest_overdue", django_capture_on_commit_callbacks)

    [email] = mail.outbox

    assert email.subject == "[警告] 联单未按时签收 / [warning] Manifest not received in time"
    chinese, english = email.body.split("-- English --")
    number = alert.manifest.number
    assert f"联单 {number} 应于" in chinese and f"预警编号 {alert.pk}" in chinese
    assert f"Manifest {number} was due to be received by" in english and f"Alert #{alert.pk}" in english
