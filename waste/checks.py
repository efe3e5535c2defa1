"""Deployment checks (``manage.py check --deploy``) for settings only this product has."""

from django.conf import settings
from django.core.checks import Warning, register


@register(deploy=True)
def check_database_roles(app_configs, **kwargs):
    if settings.DB_IS_POSTGIS and not settings.DATABASE_OWNER:
        return [
            Warning(
                "DATABASE_OWNER_URL is not set: the application connects as the role that owns the tables,"
                " so the ledger's append-only guard does not bind it.",
                hint="Connect the processes as an application role and set DATABASE_OWNER_URL to the owner"
                " role that runs migrate (README, 'Database roles and limits').",
                id="zerowaste.W001",
            )
        ]
    return []
