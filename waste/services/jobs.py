"""Background jobs that survive their workers and their broker: a transactional outbox and leases.

Outbox. A write that needs a job records an ``OutboxMessage`` in its own transaction
(``outbox_enqueue``); after commit the web process tries to send it once, and the periodic sender
(``outbox_send_task``, every OUTBOX_SEND_SECONDS, and once when a worker starts) sends whatever is
still pending once the broker answers. A broker outage therefore never fails the write, and never
loses its job. Written by hand: django-celery-outbox, the library made for this, needs SELECT … SKIP
LOCKED (the embedded SpatiaLite default has none) and its own relay daemon; here two senders may
send the same row twice, which is harmless because every task is idempotent (a compare-and-set claim).

Leases. A job row (export, route plan) is claimed queued → running with ``attempt + 1`` and a lease
(``leased_until``), renewed by a heartbeat and whenever progress is reported; its results are written
only while that attempt still holds the row. ``jobs_sweep`` puts a row left running past its lease
(its worker died) back in the queue, through the outbox, or fails it after JOB_MAX_ATTEMPTS, and
sends again a row left queued JOB_QUEUED_RESEND_SECONDS after its message was sent (the message was lost).

Periodic tasks (alert scans, sealing, the sweeps, the sender) run under a lease of their own, one row
per task name in ``PeriodicLease`` (``periodic_run``): at most one run at a time, whatever the number
of workers and beats, and a run whose worker died is taken by the next tick once its lease has passed.
A row with a compare-and-set rather than an advisory lock: the same code on PostgreSQL and SQLite,
and a lease that outlives a dropped connection no longer than JOB_LEASE_SECONDS.
"""

from __future__ import annotations

import datetime
import logging
import threading
import uuid
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import TypeVar

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from waste.models import OutboxMessage, PeriodicLease

log = logging.getLogger(__name__)

RUNNING, QUEUED, FAILED = "running", "queued", "failed"
T = TypeVar("T")


# --- Outbox ----------------------------------------------------------------------------------------


def outbox_enqueue(*, task: str, args: list | tuple = (), kwargs: dict | None = None) -> OutboxMessage:
    """Records a task to send; it is sent after the surrounding transaction commits (never if it rolls back)."""
    message = OutboxMessage.objects.create(task=task, args=list(args), kwargs=kwargs or {})
    transaction.on_commit(lambda: outbox_send(ids=[message.pk]))
    return message


def outbox_send(*, ids: list[int] | None = None, limit: int = 500) -> int:
    """Sends pending messages (the named ones, or the oldest ``limit``); stops at the first broker
    error, leaving the rest for the periodic sender. Returns how many were sent. Never raises for
    a broker that does not answer: the caller's write has committed and must answer 2xx."""
    from config.celery import app

    pending = OutboxMessage.objects.filter(sent_at__isnull=True).order_by("pk")
    if ids is not None:
        pending = pending.filter(pk__in=ids)
    sent = 0
    for message in list(pending[:limit]):
        try:
            app.send_task(message.task, args=message.args, kwargs=message.kwargs, retry=False)
        except Exception as exc:  # the broker is down or refusing: the periodic sender tries again
            log.warning("outbox: broker unavailable, %s left pending: %s", message, exc)
            OutboxMessage.objects.filter(pk=message.pk).update(
                attempts=F("attempts") + 1, last_error=f"{type(exc).__name__}: {exc}"[:2000]
            )
            break
        OutboxMessage.objects.filter(pk=message.pk, sent_at__isnull=True).update(
            sent_at=timezone.now(), attempts=F("attempts") + 1
        )
        sent += 1
    return sent


def outbox_prune(*, older_than: datetime.timedelta = datetime.timedelta(days=7)) -> int:
    """Forgets messages sent long ago."""
    return OutboxMessage.objects.filter(sent_at__lt=timezone.now() - older_than).delete()[0]


# --- Leases ----------------------------------------------------------------------------------------


def lease_seconds() -> int:
    return int(settings.JOB_LEASE_SECONDS)


def lease_end() -> datetime.datetime:
    return timezone.now() + datetime.timedelta(seconds=lease_seconds())


def job_claim(model, pk, **fields) -> int | None:
    """Compare-and-set queued → running with a fresh lease; the attempt number, or None when the
    row is not queued (already claimed, finished, or gone: a redelivered task does nothing)."""
    claimed = model.objects.filter(pk=pk, status=QUEUED).update(
        status=RUNNING, attempt=F("attempt") + 1, leased_until=lease_end(), **fields
    )
    if claimed != 1:
        return None
    return model.objects.values_list("attempt", flat=True).get(pk=pk)


def job_holding(model, pk, attempt: int):
    """The row while this attempt still holds it: every write of a job's outcome goes through it."""
    return model.objects.filter(pk=pk, status=RUNNING, attempt=attempt)


class _Heartbeat(ABC):
    """Renews a lease from a thread while the work goes on, every third of a lease."""

    def __init__(self, name: str) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name=name, daemon=True)

    @abstractmethod
    def renew(self, **fields) -> bool:
        """Extends the lease (and writes ``fields`` with it); False once the lease is no longer held."""

    def _beat(self) -> None:
        try:
            while not self._stop.wait(max(lease_seconds() / 3, 0.5)):
                try:
                    self.renew()
                except Exception:  # a busy database: the next beat tries again, well within the lease
                    log.warning("%s not renewed", self._thread.name, exc_info=True)
        finally:
            connection.close()  # this thread's own connection

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(timeout=10)


class JobLease(_Heartbeat):
    """Renews a running job's lease while the job works: ``renew(**progress)`` from the job's own
    thread, and a heartbeat thread for phases that report nothing (sealing, COPY, the solver)."""

    def __init__(self, model, pk, attempt: int) -> None:
        super().__init__(f"lease of {model.__name__} {pk}")
        self.model, self.pk, self.attempt = model, pk, attempt

    def renew(self, **fields) -> bool:
        return job_holding(self.model, self.pk, self.attempt).update(leased_until=lease_end(), **fields) == 1


# --- Periodic tasks: one run at a time ---------------------------------------------------------------


def periodic_lease_take(*, name: str, holder: str, now: datetime.datetime | None = None) -> bool:
    """Takes the lease of periodic task ``name`` if nobody holds it (or its holder's lease has passed:
    that run's worker died). A compare-and-set on one row, the same on PostgreSQL and SQLite."""
    now = now or timezone.now()
    PeriodicLease.objects.bulk_create([PeriodicLease(name=name)], ignore_conflicts=True)
    free = Q(leased_until__isnull=True) | Q(leased_until__lt=now)
    return (
        PeriodicLease.objects.filter(free, name=name).update(
            holder=holder, leased_until=lease_end(), started_at=now, finished_at=None
        )
        == 1
    )


def periodic_lease_release(*, name: str, holder: str) -> bool:
    """Gives the lease back (only the holder can: a run that lost it leaves the new holder alone)."""
    return (
        PeriodicLease.objects.filter(name=name, holder=holder).update(
            holder="", leased_until=None, finished_at=timezone.now()
        )
        == 1
    )


class PeriodicHeartbeat(_Heartbeat):
    def __init__(self, name: str, holder: str) -> None:
        super().__init__(f"lease of periodic {name}")
        self.name, self.holder = name, holder

    def renew(self, **_fields) -> bool:
        return PeriodicLease.objects.filter(name=self.name, holder=self.holder).update(leased_until=lease_end()) == 1


def periodic_run(*, name: str, run: Callable[[], T]) -> T | None:
    """Runs ``run`` under the lease of periodic task ``name``; None, without running it, while
    another run holds the lease. The lease is renewed while it runs and given back when it ends;
    if its worker dies, the lease passes after JOB_LEASE_SECONDS and the next beat tick runs it."""
    holder = uuid.uuid4().hex
    if not periodic_lease_take(name=name, holder=holder):
        log.info("periodic %s: another run holds the lease, this tick skips", name)
        return None
    try:
        with PeriodicHeartbeat(name, holder):
            return run()
    finally:
        periodic_lease_release(name=name, holder=holder)


def jobs_sweep(*, model, task: str, now: datetime.datetime | None = None) -> dict[str, int]:
    """Rows left running past their lease: back to the queue (and a message in the outbox), or
    failed after JOB_MAX_ATTEMPTS attempts; rows queued whose message was lost, sent again.
    Returns {"requeued": n, "failed": m, "resent": k}."""
    now = now or timezone.now()
    counts = {"requeued": 0, "failed": 0}
    lost = model.objects.filter(status=RUNNING, leased_until__lt=now).values_list("pk", "attempt")
    for pk, attempt in list(lost):
        with transaction.atomic():
            row = model.objects.filter(pk=pk, status=RUNNING, attempt=attempt, leased_until__lt=now)
            if attempt >= settings.JOB_MAX_ATTEMPTS:
                if row.update(
                    status=FAILED,
                    leased_until=None,
                    error=f"its worker was lost {attempt} times",
                    finished_at=timezone.now(),
                ):
                    counts["failed"] += 1
                continue
            if row.update(status=QUEUED, leased_until=None):
                outbox_enqueue(task=task, args=[_task_arg(pk)])
                counts["requeued"] += 1
    counts["resent"] = jobs_resend_queued(model=model, task=task, now=now)
    if any(counts.values()):
        log.warning("%s sweep: %s", model.__name__, counts)
    return counts


def _task_arg(pk):
    return pk if isinstance(pk, int) else str(pk)


def jobs_resend_queued(*, model, task: str, now: datetime.datetime | None = None) -> int:
    """Rows still queued JOB_QUEUED_RESEND_SECONDS after their message left the outbox: the message
    was lost on its way (a broker restarted without persistence, a worker that died holding it before
    its claim, the embedded SQLite transport that never gives back an unacknowledged message). A new
    message goes through the outbox; should the old one arrive after all, the claim (a compare-and-set)
    lets only one of them run the job. A row whose message is still pending is left to the sender."""
    now = now or timezone.now()
    before = now - datetime.timedelta(seconds=settings.JOB_QUEUED_RESEND_SECONDS)
    resent = 0
    for pk in list(model.objects.filter(status=QUEUED, created_at__lt=before).values_list("pk", flat=True)):
        arg = _task_arg(pk)
        last = OutboxMessage.objects.filter(task=task, args=[arg]).order_by("-pk").first()
        if last is not None and (last.sent_at is None or last.sent_at >= before):
            continue  # not sent yet (the sender's business), or sent too recently to call lost
        with transaction.atomic():
            if model.objects.filter(pk=pk, status=QUEUED).exists():
                outbox_enqueue(task=task, args=[arg])
                resent += 1
    return resent


def lease_lost(job, *, now: datetime.datetime | None = None) -> bool:
    """A running job whose lease has passed: its worker is gone."""
    now = now or timezone.now()
    return job.status == RUNNING and job.leased_until is not None and job.leased_until < now
