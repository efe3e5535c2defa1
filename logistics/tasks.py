"""Background jobs: thin, idempotent, take ids, call services."""

from celery import shared_task

from logistics.services.plans import plan_run


@shared_task(acks_late=True)
def plan_run_task(plan_id: int) -> bool:
    return plan_run(plan_id=plan_id)
