"""Background jobs: thin, idempotent, take ids, call services."""

from celery import shared_task

from logistics.services.plans import PLAN_TASK, plan_run


@shared_task
def plan_run_task(plan_id: int) -> bool:
    return plan_run(plan_id=plan_id)


@shared_task
def plans_sweep_task() -> dict | None:
    """Plans left running past their lease (their worker died), or left queued after their message
    was lost, are queued again; one sweep at a time (the periodic lease)."""
    from logistics.models import RoutePlan
    from waste.services.jobs import jobs_sweep, periodic_run

    return periodic_run(name="plans-sweep", run=lambda: jobs_sweep(model=RoutePlan, task=PLAN_TASK))


@shared_task(acks_late=True)
def positions_partitions_task() -> dict | None:
    """Hourly (beat): the day partitions of positions made ahead, those past retention dropped; one
    run at a time (the periodic lease)."""
    from logistics.services.positions import positions_partitions_maintain
    from waste.services.jobs import periodic_run

    return periodic_run(name="positions-partitions", run=positions_partitions_maintain)
