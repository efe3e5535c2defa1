"""Background jobs: thin, idempotent, take ids, call services."""

from celery import shared_task

from logistics.services.plans import plan_run


@shared_task(acks_late=True)
def plan_run_task(plan_id: int) -> bool:
    return plan_run(plan_id=plan_id)


@shared_task(acks_late=True)
def positions_partitions_task() -> dict:
    """Hourly (beat): the day partitions of positions made ahead, those past retention dropped."""
    from logistics.services.positions import positions_partitions_maintain

    return positions_partitions_maintain()
