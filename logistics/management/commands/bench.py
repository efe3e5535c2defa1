"""``manage.py bench <subcommand>``: measured benchmarks of the product's heavy parts.

The benchmarks live in the top-level ``bench/`` package of the source tree (mirroring ``tests/``,
not packaged: run them from a checkout) and are registered here (or in the ``BENCH_SUBCOMMANDS``
setting) as ``name -> "module:function"``. The function receives the subcommand's argparse parser,
adds its arguments, and returns ``handle(options, stdout)``. Modules are imported only when the
``bench`` command runs.
"""

from __future__ import annotations

from contextlib import contextmanager
from importlib import import_module

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

SUBCOMMANDS: dict[str, str] = {
    "export": "bench.waste.export:export_subcommand",
    "indicators": "bench.waste.indicators:indicators_subcommand",
    "routing": "bench.logistics.routing:routing_subcommand",
    "positions": "bench.logistics.positions:positions_subcommand",
    "scans": "bench.logistics.scans:scans_subcommand",
    "seal": "bench.waste.seal:seal_subcommand",
}


def registry() -> dict[str, str]:
    return {**SUBCOMMANDS, **getattr(settings, "BENCH_SUBCOMMANDS", {})}


def _load(target: str):
    module, _, attr = target.partition(":")
    return getattr(import_module(module), attr)


class Command(BaseCommand):
    help = "Run a benchmark: " + ", ".join(sorted(SUBCOMMANDS))
    # Benchmarks touch neither URLs nor the database; don't let an unrelated check stop them.
    requires_system_checks = []

    def add_arguments(self, parser):
        subparsers = parser.add_subparsers(dest="subcommand", metavar="SUBCOMMAND", required=True)
        self.handlers = {}
        for name, target in sorted(registry().items()):
            setup = _load(target)
            sub = subparsers.add_parser(name, help=(setup.__doc__ or "").strip().split("\n")[0])
            self.handlers[name] = setup(sub)

    def handle(self, *args, **options):
        name = options["subcommand"]
        if name not in self.handlers:
            raise CommandError(f"unknown benchmark {name!r}")
        with _as_owner():
            self.handlers[name](options, self.stdout)


@contextmanager
def _as_owner():
    """With two database roles, a benchmark runs as the owner: it creates, migrates and drops its own
    database and the baselines' tables, which the application role may not (README, "Database roles").
    The process's own role comes back afterwards."""
    from django.db import connections

    owner = getattr(settings, "DATABASE_OWNER", None)
    if not owner:
        yield
        return
    connection = connections["default"]
    saved = {key: settings.DATABASES["default"].get(key) for key in owner}
    connection.close()
    settings.DATABASES["default"].update(owner)
    connection.settings_dict.update(owner)
    try:
        yield
    finally:
        connection.close()
        settings.DATABASES["default"].update(saved)
        connection.settings_dict.update(saved)
