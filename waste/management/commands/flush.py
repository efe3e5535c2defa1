"""``flush`` as the owner role when DATABASE_OWNER_URL is set: emptying the tables (TRUNCATE) is the
owner's; the application role may not, least of all on the append-only ledger."""

from django.core.management.commands import flush

from waste.dbroles import as_owner


class Command(flush.Command):
    def handle(self, **options):
        with as_owner(options["database"]):
            return super().handle(**options)
