"""manage.py import_roads FILE.osm|FILE.pbf: load a road network for pgRouting (PostGIS only)."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from logistics.services.roads import roads_import
from waste.errors import AppError


class Command(BaseCommand):
    help = "Import an OpenStreetMap extract into the `roads` schema with osm2pgrouting (.pbf via osmium)."

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument(
            "--mapconfig", type=Path, default=None, help="osm2pgrouting map configuration (default: its mapconfig.xml)"
        )

    def handle(self, *args, file: Path, mapconfig: Path | None, **options):
        try:
            result = roads_import(path=file, mapconfig=mapconfig)
        except AppError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(
            f"imported {result['ways']} ways, {result['vertices']} vertices (network version {result['version']})"
        )
