"""``manage.py bench indicators``: a full-year indicator report over the data in the database
(e.g. the million ledger rows ``bench export`` leaves behind), timed, with the query's row counts."""

from __future__ import annotations

import datetime
import time

from django.utils import timezone

from waste import indicators
from waste.models import Batch, LedgerEntry


def indicators_subcommand(parser):
    """Time a full-year indicator report (target <= 2 s over 1,000,000 ledger rows)."""
    parser.add_argument("--year", type=int, default=timezone.localdate().year - 1)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--group", choices=["", "district", "organisation", "code"], default="")

    def handle(options, stdout):
        year = options["year"]
        scope = indicators.Scope()  # everything: what a superuser sees
        rows, batches = LedgerEntry.objects.count(), Batch.objects.count()
        timings = []
        for _ in range(options["repeat"]):
            started = time.perf_counter()
            result = indicators.indicators_compute(scope=scope, date_from=datetime.date(year, 1, 1),
                                                   date_to=datetime.date(year, 12, 31), group=options["group"])
            timings.append(time.perf_counter() - started)
        generated = sum(b["generated_kg"] for b in result["balance"].values())
        stdout.write(f"indicators {year}: {rows:,} ledger rows, {batches:,} batches, "
                     f"{generated / 1000:,.1f} t generated; best {min(timings):.3f} s, "
                     f"worst {max(timings):.3f} s over {len(timings)} runs (target <= 2 s)")

    return handle
