"""Jobs that survive their workers: leases, the sweep, and the outbox written with the request."""

from __future__ import annotations

import datetime
import hashlib

import pytest
from django.db import transaction
from django.utils import timezone

from tests.conftest import client_for
from tests.waste.chain_helpers import batch_new
from tests.waste.export_helpers import request
from waste.models import ExportJob, OutboxMessage
from waste.services.exports import EXPORT_TASK, export_run
from waste.services.jobs import JobLease, job_claim, job_holding, jobs_sweep, outbox_enqueue

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def expire(job_id) -> None:
    ExportJob.objects.filter(pk=job_id).update(leased_until=timezone.now() - datetime.timedelta(seconds=1))


@pytest.fixture
def export(city, catalogs):
    generator = client_for(city.generator)
    batch_new(generator, city.generation_site, quantity="10.000")
    response = request(generator, kind="events", format="csv")
    assert response.status_code == 202, response.json()
    return generator, response.json()["id"]


def test_it_records_the_job_in_the_outbox_with_the_request(export):
    _, job_id = export
    [message] = OutboxMessage.objects.filter(task=EXPORT_TASK)
    assert message.args == [job_id] and message.sent_at is None  # the test's transaction never commits


def test_it_records_no_job_when_the_write_rolls_back(db):
    with pytest.raises(RuntimeError), transaction.atomic():
        outbox_enqueue(task=EXPORT_TASK, args=["x"])
        raise RuntimeError("the write failed")
    assert not OutboxMessage.objects.exists()


def test_it_claims_a_job_once_with_a_lease(export, settings):
    _, job_id = export
    settings.JOB_LEASE_SECONDS = 60
    assert job_claim(ExportJob, job_id) == 1
    assert job_claim(ExportJob, job_id) is None  # a redelivered task does nothing
    job = ExportJob.objects.get(pk=job_id)
    assert job.status == "running" and job.leased_until > timezone.now() + datetime.timedelta(seconds=50)


def test_it_renews_the_lease_while_the_job_works(export, settings):
    _, job_id = export
    settings.JOB_LEASE_SECONDS = 60
    attempt = job_claim(ExportJob, job_id)
    expire(job_id)
    assert JobLease(ExportJob, job_id, attempt).renew(progress=40)
    job = ExportJob.objects.get(pk=job_id)
    assert job.progress == 40 and job.leased_until > timezone.now()


def test_it_queues_again_a_job_left_running_past_its_lease_and_runs_it_once(export):
    generator, job_id = export
    job_claim(ExportJob, job_id)  # a worker claimed it, then died
    expire(job_id)

    assert jobs_sweep(model=ExportJob, task=EXPORT_TASK) == {"requeued": 1, "failed": 0, "resent": 0}

    assert ExportJob.objects.get(pk=job_id).status == "queued"
    assert OutboxMessage.objects.filter(task=EXPORT_TASK, args=[job_id]).count() == 2
    done = export_run(job_id=job_id)
    assert done.status == "done" and done.attempt == 2 and done.rows == 1
    assert export_run(job_id=job_id) is None  # the first message, delivered late, does nothing
    assert hashlib.sha256((done_path := _path(done)).read_bytes()).hexdigest() == done.sha256
    assert not list(done_path.parent.glob("*.part"))


def _path(job):
    from django.conf import settings

    return settings.MEDIA_ROOT / job.file


def test_it_leaves_a_job_alone_while_its_lease_holds(export):
    _, job_id = export
    job_claim(ExportJob, job_id)
    assert jobs_sweep(model=ExportJob, task=EXPORT_TASK) == {"requeued": 0, "failed": 0, "resent": 0}
    assert ExportJob.objects.get(pk=job_id).status == "running"


def test_it_drops_the_outcome_of_an_attempt_that_lost_its_lease(export):
    _, job_id = export
    first = job_claim(ExportJob, job_id)
    expire(job_id)
    jobs_sweep(model=ExportJob, task=EXPORT_TASK)
    second = job_claim(ExportJob, job_id)

    assert job_holding(ExportJob, job_id, first).update(status="done") == 0
    assert job_holding(ExportJob, job_id, second).update(status="done") == 1


def test_it_fails_a_job_whose_worker_was_lost_too_often(export, settings):
    _, job_id = export
    settings.JOB_MAX_ATTEMPTS = 2
    for _attempt in range(2):
        job_claim(ExportJob, job_id)
        expire(job_id)
        jobs_sweep(model=ExportJob, task=EXPORT_TASK)
    job = ExportJob.objects.get(pk=job_id)
    assert job.status == "failed" and "lost 2 times" in job.error


def _queued_since(job_id, seconds: float) -> None:
    """The job was requested, and its message sent, ``seconds`` ago."""
    then = timezone.now() - datetime.timedelta(seconds=seconds)
    ExportJob.objects.filter(pk=job_id).update(created_at=then)
    OutboxMessage.objects.filter(task=EXPORT_TASK, args=[job_id]).update(sent_at=then)


def test_it_sends_again_a_job_left_queued_after_its_message_was_lost(export, settings):
    _, job_id = export
    settings.JOB_QUEUED_RESEND_SECONDS = 60
    _queued_since(job_id, 61)  # sent a minute ago, never claimed: the broker lost it

    assert jobs_sweep(model=ExportJob, task=EXPORT_TASK) == {"requeued": 0, "failed": 0, "resent": 1}

    messages = OutboxMessage.objects.filter(task=EXPORT_TASK, args=[job_id]).order_by("pk")
    assert [m.sent_at is None for m in messages] == [False, True]  # the new one waits for the sender
    assert jobs_sweep(model=ExportJob, task=EXPORT_TASK)["resent"] == 0  # not twice while it waits
    done = export_run(job_id=job_id)
    assert done.status == "done" and done.attempt == 1
    assert export_run(job_id=job_id) is None  # the lost message, delivered after all, does nothing
    assert ExportJob.objects.get(pk=job_id).finished_at == done.finished_at


def test_it_leaves_a_queued_job_alone_while_its_message_is_recent_or_unsent(export, settings):
    _, job_id = export
    settings.JOB_QUEUED_RESEND_SECONDS = 60
    _queued_since(job_id, 30)  # sent half a minute ago: the worker may be busy
    assert jobs_sweep(model=ExportJob, task=EXPORT_TASK)["resent"] == 0
    ExportJob.objects.filter(pk=job_id).update(created_at=timezone.now() - datetime.timedelta(hours=1))
    OutboxMessage.objects.filter(task=EXPORT_TASK, args=[job_id]).update(sent_at=None)  # the broker is down
    assert jobs_sweep(model=ExportJob, task=EXPORT_TASK)["resent"] == 0
    assert OutboxMessage.objects.filter(task=EXPORT_TASK, args=[job_id]).count() == 1


def test_it_answers_a_new_job_for_a_request_whose_job_lost_its_lease(export):
    generator, job_id = export
    job_claim(ExportJob, job_id)
    still = request(generator, kind="events", format="csv")
    assert still.json()["id"] == job_id  # running, lease held: the same job
    expire(job_id)

    again = request(generator, kind="events", format="csv")

    assert again.status_code == 202 and again.json()["id"] != job_id and again.json()["status"] == "queued"
    assert ExportJob.objects.get(pk=job_id).status == "failed"


def test_it_answers_a_new_job_for_a_request_whose_job_failed(export):
    generator, job_id = export
    ExportJob.objects.filter(pk=job_id).update(status="failed")
    again = request(generator, kind="events", format="csv")
    assert again.status_code == 202 and again.json()["id"] != job_id


def test_it_sends_an_overdue_webhook_delivery_again(city, settings):
    from waste.alerts.notify import webhook_deliveries_sweep
    from waste.models import Webhook, WebhookDelivery

    hook = Webhook.objects.create(organisation=city.generator_org, url="https://example.invalid/h", secret="s")
    late = timezone.now() - datetime.timedelta(seconds=settings.JOB_LEASE_SECONDS + 5)
    delivery = WebhookDelivery.objects.create(webhook=hook, event="alert.raised", payload={}, next_attempt_at=late)
    on_time = WebhookDelivery.objects.create(
        webhook=hook, event="alert.raised", payload={}, next_attempt_at=timezone.now()
    )

    assert webhook_deliveries_sweep() == 1

    [message] = OutboxMessage.objects.filter(task="waste.tasks.webhook_deliver_task")
    assert message.args == [delivery.pk] and on_time.pk not in message.args
