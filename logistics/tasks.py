"""Background jobs: thin, idempotent, take ids, call services."""

from celery import shared_task

from logistics.services.plans import PLAN_TASK, plan_run


@shared_task
def plan_run_task(plan_id: int) -> bool:
    return plan_run(plan_id=plan_id)


@shared_task
def plans_sweep_task() -> dict:
    """Plans left running past their lease (their worker died) are queued again."""
    from logistics.models import RoutePlan
    from waste.services.jobs import jobs_sweep

    return jobs_sweep(model=RoutePlan, task=PLAN_TASK)


@shared_task(acks_late=True)
def positions_partitions_task() -> dict:
    """Hourly (beat): the day partitions of positions made ahead, those past retention dropped."""
    from logistics.services.positions import positions_partitions_maintain

    return positions_partitions_maintain()
