"""``migrate`` as the owner role when DATABASE_OWNER_URL is set (the application role may not change
the schema); the application role's grants follow (waste.dbroles, on post_migrate)."""

from django.core.management.commands import migrate

from waste.dbroles import as_owner


class Command(migrate.Command):
    def handle(self, *args, **options):
        with as_owner(options["database"]):
            return super().handle(*args, **options)
