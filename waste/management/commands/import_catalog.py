"""manage.py import_catalog KEY VERSION --effective-from YYYY-MM-DD FILE.csv"""

from datetime import date

from django.core.management.base import BaseCommand, CommandError, CommandParser

from waste.errors import AppError
from waste.services.catalogs import ENTRY_FIELDS, catalog_import


def _date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"--effective-from: {value!r} is not a date (YYYY-MM-DD).") from exc


def app_error_text(exc: AppError) -> str:
    lines = [exc.message]
    for path, messages in exc.fields.items():
        lines += [f"  {path}: {m}" for m in messages]
    return "\n".join(lines)


class Command(BaseCommand):
    help = (
        "Load a new version of a code catalog from a UTF-8 CSV file. The version in force "
        "before --effective-from ends that day. Re-importing identical content is a no-op."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("key", help="catalog key, e.g. eu-low, cn-hw, cn-sw, household")
        parser.add_argument("version", help="version label, e.g. 2025")
        parser.add_argument("file", help="CSV file with a header row")
        parser.add_argument("--effective-from", required=True, help="YYYY-MM-DD")
        parser.add_argument("--name", help="human name (default: the previous version's)")
        parser.add_argument("--source", default="", help="where the list comes from")
        parser.add_argument("--licence", default="", help="licence of the data")
        parser.add_argument("--partial", action="store_true", help="the list is knowingly incomplete")
        parser.add_argument(
            "--column",
            action="append",
            default=[],
            metavar="FIELD=COLUMN",
            help=f"map an entry field ({', '.join(ENTRY_FIELDS)}) to a CSV column; repeatable",
        )

    def handle(self, *args, **options) -> None:
        columns = None
        if options["column"]:
            columns = {}
            for item in options["column"]:
                field, sep, column = item.partition("=")
                if not sep or not field.strip() or not column.strip():
                    raise CommandError(f"--column {item!r}: expected FIELD=COLUMN.")
                columns[field.strip()] = column.strip()
        try:
            catalog = catalog_import(
                key=options["key"],
                version=options["version"],
                effective_from=_date(options["effective_from"]),
                path=options["file"],
                name=options["name"],
                source=options["source"],
                licence=options["licence"],
                partial=options["partial"],
                columns=columns,
            )
        except AppError as exc:
            raise CommandError(app_error_text(exc)) from exc
        until = catalog.effective_until.isoformat() if catalog.effective_until else "open"
        self.stdout.write(
            f"{catalog.key} {catalog.version}: {catalog.entries.count()} entries, "
            f"in force {catalog.effective_from.isoformat()} .. {until}"
        )
