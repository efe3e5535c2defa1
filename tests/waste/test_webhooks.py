"""Webhooks: signed with HMAC-SHA256, retried with backoff, disabled after repeated failure.
Deliveries go to a local HTTP server on 127.0.0.1 in a thread; nothing leaves the machine."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.conftest import client_for
from tests.waste.test_alerts import ago, chain  # noqa: F401 - chain is a fixture
from tests.year import driver
from waste.alerts.notify import backoff_seconds, webhook_deliver, webhook_enqueue
from waste.alerts.services import alerts_scan
from waste.models import OutboxMessage, Webhook, WebhookDelivery

SECRET = "s3cret-for-the-receiver-0123456789"


class Receiver:
    """A local HTTP endpoint answering with ``status``; records what it received."""

    def __init__(self, status: int = 200):
        self.status, self.requests = status, []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                owner.requests.append((dict(self.headers), body))
                self.send_response(owner.status)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


def hook_for(org, url, **extra) -> Webhook:
    return Webhook.objects.create(organisation=org, url=url, secret=SECRET, **extra)


def test_it_signs_the_body_so_the_receiver_can_verify_it(db, city, receiver):
    hook = hook_for(city.generator_org, receiver.url)
    delivery = WebhookDelivery.objects.create(webhook=hook, event="alert.raised", payload={"alert": {"id": 1}})
    assert webhook_deliver(delivery_id=delivery.pk) is None
    [(headers, body)] = receiver.requests
    expected = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(headers["X-Signature"], expected)
    assert json.loads(body)["sent_at"] == headers["X-Timestamp"]
    delivery.refresh_from_db()
    assert delivery.status == "delivered" and delivery.attempts == 1


def test_it_retries_with_backoff_and_disables_after_repeated_failure(db, city, settings):
    settings.WEBHOOK_MAX_FAILURES = 5
    failing = Receiver(status=500)
    try:
        hook = hook_for(city.generator_org, failing.url)
        delivery = WebhookDelivery.objects.create(webhook=hook, event="alert.raised", payload={})
        waits = [webhook_deliver(delivery_id=delivery.pk) for _ in range(5)]
    finally:
        failing.close()
    assert waits == [30, 60, 120, 240, None]
    assert len(failing.requests) == 5
    hook.refresh_from_db()
    delivery.refresh_from_db()
    assert not hook.active and "5 consecutive failures" in hook.disabled_reason
    assert delivery.status == "failed" and delivery.last_error == "HTTP 500"
    later = WebhookDelivery.objects.create(webhook=hook, event="alert.raised", payload={})
    assert webhook_deliver(delivery_id=later.pk) is None
    later.refresh_from_db()
    assert later.status == "failed" and later.attempts == 0


def test_it_counts_unreachable_endpoints_as_failures_and_resets_on_success(db, city, receiver):
    hook = hook_for(city.generator_org, "http://127.0.0.1:9/nothing-listens")
    delivery = WebhookDelivery.objects.create(webhook=hook, event="alert.raised", payload={})
    assert webhook_deliver(delivery_id=delivery.pk) == 30
    Webhook.objects.filter(pk=hook.pk).update(url=receiver.url)
    assert webhook_deliver(delivery_id=delivery.pk) is None
    hook.refresh_from_db()
    assert hook.consecutive_failures == 0 and hook.active


def test_it_backs_off_exponentially():
    assert [backoff_seconds(n) for n in (1, 2, 3, 4)] == [30, 60, 120, 240]
    assert backoff_seconds(30) == 6 * 3600


def test_it_registers_webhooks_and_lists_deliveries(db, city):
    generator = client_for(city.generator)
    created = generator.post(
        "/api/v1/webhooks/",
        {"organisation": city.generator_org.pk, "url": "https://example.invalid/hook", "events": ["vanished"]},
    )
    assert created.status_code == 201, created.json()
    assert len(created.json()["secret"]) >= 32
    listed = generator.get("/api/v1/webhooks/").json()
    assert [h["id"] for h in listed["results"]] == [created.json()["id"]]
    assert "secret" not in listed["results"][0]
    hook = Webhook.objects.get()
    webhook_enqueue(webhook=hook, event="alert.raised", payload={"x": 1})
    deliveries = generator.get(f"/api/v1/webhooks/{hook.pk}/deliveries/").json()
    assert deliveries["count"] == 1 and deliveries["results"][0]["status"] == "pending"
    outsider = client_for(city.outsider)
    assert outsider.get(f"/api/v1/webhooks/{hook.pk}/deliveries/").status_code == 404
    refused = outsider.post(
        "/api/v1/webhooks/", {"organisation": city.generator_org.pk, "url": "https://example.invalid/x"}
    )
    assert refused.status_code == 403
    bad = generator.post("/api/v1/webhooks/", {"organisation": city.generator_org.pk, "url": "x", "events": ["nope"]})
    assert bad.status_code == 400 and {"url", "events.0"} <= set(bad.json()["error"]["fields"])


def test_it_queues_a_delivery_for_each_matching_webhook_when_an_alert_is_raised(
    chain,  # noqa: F811 - the fixture imported above
    receiver,
    django_capture_on_commit_callbacks,
    monkeypatch,
):
    sent = []
    monkeypatch.setattr("waste.services.jobs.outbox_send", lambda ids=None, **kw: sent.extend(ids or []))
    hook_for(chain.generator_org, receiver.url, events=["vanished"])
    hook_for(chain.generator_org, receiver.url, events=["weight_mismatch"])
    d = driver()
    gone = d.make(chain.generation_site, "900-249-08", 100, ago(days=5))
    d.ship([gone], to=chain.plant, carrier=chain.hauler_org, when=ago(hours=60), receive=False)
    with django_capture_on_commit_callbacks(execute=True):
        alerts_scan(rules=["vanished"])
    [delivery] = WebhookDelivery.objects.all()
    [message] = OutboxMessage.objects.filter(task="waste.tasks.webhook_deliver_task")
    assert message.args == [delivery.pk] and sent == [message.pk]
    assert delivery.payload["alert"]["rule"] == "vanished"


@pytest.mark.celery
def test_it_delivers_a_webhook_through_the_real_worker(celery_worker, city, catalogs, receiver):
    from django.db import transaction

    from tests.waste.test_chain_e2e import permit

    permit(city.plant, ["HW08"], ["R9"])
    hook_for(city.generator_org, receiver.url)
    d = driver()
    gone = d.make(city.generation_site, "900-249-08", 100, ago(days=5))
    d.ship([gone], to=city.plant, carrier=city.hauler_org, when=ago(hours=60), receive=False)
    with transaction.atomic():
        alerts_scan(rules=["vanished"])
    deadline = time.monotonic() + 60
    while not receiver.requests and time.monotonic() < deadline:
        time.sleep(0.2)
    [(headers, body)] = receiver.requests
    assert headers["X-Signature"] == "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    assert json.loads(body)["alert"]["batch"] == gone.code
    deadline = time.monotonic() + 10
    while WebhookDelivery.objects.get().status != "delivered" and time.monotonic() < deadline:
        time.sleep(0.2)
    assert WebhookDelivery.objects.get().status == "delivered"
