"""Background jobs: thin, idempotent, calling services."""

from celery import shared_task

from waste.services.ledger import ledger_seal


@shared_task
def ledger_seal_task() -> int:
    """Seals the ledger (a no-op when nothing was appended since the last checkpoint)."""
    return ledger_seal().pk


@shared_task
def alerts_scan_task() -> dict:
    """Runs every early-warning rule; each alert is raised at most once per cause."""
    from waste.alerts.services import alerts_scan

    return alerts_scan()


@shared_task(bind=True, max_retries=None, acks_late=True)
def webhook_deliver_task(self, delivery_id: int) -> None:
    """One delivery attempt; on failure Celery retries it later with exponential backoff
    (the service counts failures and disables the webhook after WEBHOOK_MAX_FAILURES)."""
    from waste.alerts.notify import webhook_deliver

    wait = webhook_deliver(delivery_id=delivery_id)
    if wait is not None:
        raise self.retry(countdown=wait)


@shared_task(acks_late=True)
def export_run_task(job_id: str) -> str | None:
    """Runs one queued export (a no-op for a job already claimed: redelivery is harmless)."""
    from waste.services.exports import export_run

    job = export_run(job_id=job_id)
    return None if job is None else job.status
