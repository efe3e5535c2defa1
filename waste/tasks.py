"""Background jobs: thin, idempotent, calling services. Every task may run twice (late
acknowledgement, redelivery after a lost worker, a message sent twice by the outbox): each one
claims its work with a compare-and-set or does nothing new the second time."""

from celery import shared_task
from celery.signals import worker_ready

from waste.services.jobs import periodic_run
from waste.services.ledger import ledger_seal


@shared_task
def ledger_seal_task() -> int | None:
    """Seals the ledger (a no-op when nothing was appended since the last checkpoint); one seal at a
    time under the periodic lease (None: another run holds it)."""
    return periodic_run(name="ledger-seal", run=lambda: ledger_seal().pk)


@shared_task
def alerts_scan_task() -> dict | None:
    """Runs every early-warning rule, one scan at a time (the periodic lease); each alert is raised
    at most once per cause."""
    from waste.alerts.services import alerts_scan

    return periodic_run(name="alerts-scan", run=alerts_scan)


@shared_task(bind=True, max_retries=None)
def webhook_deliver_task(self, delivery_id: int) -> None:
    """One delivery attempt; on failure Celery retries it later with exponential backoff
    (the service counts failures and disables the webhook after WEBHOOK_MAX_FAILURES)."""
    from waste.alerts.notify import webhook_deliver

    wait = webhook_deliver(delivery_id=delivery_id)
    if wait is not None:
        raise self.retry(countdown=wait)


@shared_task
def export_run_task(job_id: str) -> str | None:
    """Runs one queued export (a no-op for a job already claimed: redelivery is harmless)."""
    from waste.services.exports import export_run

    job = export_run(job_id=job_id)
    return None if job is None else job.status


@shared_task
def outbox_send_task() -> int | None:
    """The periodic sender: whatever the outbox still holds goes to the broker now that it answers."""
    from waste.services.jobs import outbox_prune, outbox_send

    def send() -> int:
        outbox_prune()
        return outbox_send()

    return periodic_run(name="outbox-send", run=send)


@shared_task
def jobs_sweep_task() -> dict | None:
    """Exports left running past their lease (their worker died) are queued again; webhook
    deliveries whose retry never came are sent again."""
    from waste.alerts.notify import webhook_deliveries_sweep
    from waste.models import ExportJob
    from waste.services.exports import EXPORT_TASK
    from waste.services.jobs import jobs_sweep

    def sweep() -> dict:
        return {**jobs_sweep(model=ExportJob, task=EXPORT_TASK), "webhooks": webhook_deliveries_sweep()}

    return periodic_run(name="jobs-sweep", run=sweep)


@worker_ready.connect
def _send_pending_on_start(**_kwargs) -> None:
    """A worker that starts (after an outage, say) sends what the outbox holds at once."""
    outbox_send_task.delay()
