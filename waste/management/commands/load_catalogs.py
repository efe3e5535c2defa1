"""manage.py load_catalogs: load the catalogs shipped in waste/catalogs/data (idempotent)."""

from django.core.management.base import BaseCommand, CommandError

from waste.errors import AppError
from waste.management.commands.import_catalog import app_error_text
from waste.services.catalogs import catalogs_load_shipped


class Command(BaseCommand):
    help = "Load every catalog listed in waste/catalogs/data/catalogs.json; loaded ones are kept."

    def handle(self, *args, **options) -> None:
        try:
            results = catalogs_load_shipped()
        except AppError as exc:
            raise CommandError(app_error_text(exc)) from exc
        for catalog, created in results:
            state = "loaded" if created else "already loaded"
            count = catalog.entries.count()
            self.stdout.write(f"{catalog.key:<20} {catalog.version:<18} {count:>4} entries  {state}")
