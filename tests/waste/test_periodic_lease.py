"""Periodic tasks (alert scans, sealing, the sweeps) run one at a time under a lease, and a run whose
worker died is taken by the next tick once its lease has passed."""

from __future__ import annotations

import datetime
import threading
import time
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from tests.waste.chain_helpers import OIL
from waste.models import LedgerCheckpoint, PeriodicLease
from waste.services.batches import batch_create
from waste.services.jobs import periodic_run
from waste.tasks import alerts_scan_task, ledger_seal_task

pytestmark = pytest.mark.django_db(transaction=True)


def in_threads(n: int, target) -> list:
    """Calls ``target()`` from n threads at the same instant; their results."""
    barrier = threading.Barrier(n)
    results: list = [None] * n

    def call(i: int) -> None:
        try:
            barrier.wait(timeout=10)
            results[i] = target()
        finally:
            connection.close()

    threads = [threading.Thread(target=call, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    return results


def test_it_runs_one_of_two_ticks_that_start_at_once():
    ran = []

    def scan() -> str:
        ran.append(threading.get_ident())
        time.sleep(0.5)  # long enough for the other tick to find the lease held
        return "scanned"

    results = in_threads(2, lambda: periodic_run(name="alerts-scan", run=scan))

    assert len(ran) == 1 and sorted(results, key=str) == [None, "scanned"]
    lease = PeriodicLease.objects.get(name="alerts-scan")
    assert lease.holder == "" and lease.leased_until is None and lease.finished_at  # given back
    assert periodic_run(name="alerts-scan", run=lambda: "next") == "next"  # the next tick runs


def test_it_keeps_the_lease_while_a_long_run_works(settings):
    settings.JOB_LEASE_SECONDS = 1  # renewed every half second
    started, skipped = threading.Event(), []

    def long_run() -> str:
        started.set()
        time.sleep(2)  # twice the lease: only the heartbeat keeps it
        return "sealed"

    def second_tick() -> None:
        started.wait(5)
        time.sleep(1.5)
        skipped.append(periodic_run(name="ledger-seal", run=lambda: "ran twice"))
        connection.close()

    other = threading.Thread(target=second_tick)
    other.start()
    assert periodic_run(name="ledger-seal", run=long_run) == "sealed"
    other.join(timeout=10)
    assert skipped == [None]


def test_it_takes_up_a_run_whose_worker_died(city, catalogs):
    dead = timezone.now() - datetime.timedelta(seconds=1)
    PeriodicLease.objects.create(name="ledger-seal", holder="a dead worker", leased_until=dead)
    batch_create(
        user=city.generator, site=city.generation_site, waste_code=OIL, quantity_kg=Decimal(1), generated_at=dead
    )

    assert ledger_seal_task() == LedgerCheckpoint.objects.get().pk

    assert PeriodicLease.objects.get(name="ledger-seal").holder == ""


def test_it_skips_a_tick_while_another_run_holds_the_lease(city, catalogs):
    later = timezone.now() + datetime.timedelta(seconds=60)
    PeriodicLease.objects.create(name="ledger-seal", holder="a live worker", leased_until=later)
    PeriodicLease.objects.create(name="alerts-scan", holder="a live worker", leased_until=later)

    assert ledger_seal_task() is None and alerts_scan_task() is None

    assert not LedgerCheckpoint.objects.exists()
    held = PeriodicLease.objects.get(name="ledger-seal")
    assert (held.holder, held.leased_until) == ("a live worker", later)  # a skipped tick leaves it alone
