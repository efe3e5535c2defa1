"""The outbox: background jobs recorded in the same transaction as the write that needs them."""

from __future__ import annotations

from django.db import models


class OutboxMessage(models.Model):
    """One Celery task to send. Written beside the data it is about, sent after commit and by the
    periodic sender until the broker takes it; every task is idempotent, so a second send is harmless."""

    task = models.CharField(max_length=200)
    args = models.JSONField(default=list)
    kwargs = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["id"], condition=models.Q(sent_at__isnull=True), name="outbox_unsent"),
        ]

    def __str__(self) -> str:
        return f"{self.task}{tuple(self.args)} ({'sent' if self.sent_at else 'pending'})"


class PeriodicLease(models.Model):
    """Who runs a periodic task (alert scan, ledger sealing, the sweeps) right now: one row per task,
    held until ``leased_until`` and renewed while the run works. A second worker (two beats, a tick
    that overlaps a long run) finds it held and skips its tick; a run whose worker died lets its lease
    pass, and the next tick takes it."""

    name = models.CharField(max_length=200, primary_key=True)
    holder = models.CharField(max_length=64, blank=True)
    leased_until = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.name} (held by {self.holder or 'nobody'} until {self.leased_until})"
