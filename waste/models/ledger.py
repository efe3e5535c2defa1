"""The append-only, tamper-evident event ledger.

Entries are hash-linked in ``LEDGER_SHARDS`` independent chains (shard = hash of the batch code),
so concurrent writers only contend on the head row of their own shard, never on one global lock.
Checkpoints seal the heads of all chains into a Merkle root signed with Ed25519.
"""

from django.conf import settings
from django.contrib.gis.db import models
from django.utils.translation import gettext_lazy as _

from waste.geo import WGS84

from .batches import Batch
from .parties import Organisation
from .sites import Site


class EventType(models.TextChoices):
    GENERATED = "generated", _("Generated")
    STORED = "stored", _("Stored (storage in)")
    RELEASED = "released", _("Out of storage")
    PICKED_UP = "picked_up", _("Picked up")
    DROPPED_OFF = "dropped_off", _("Dropped off")
    RECEIVED = "received", _("Received")
    WEIGHED = "weighed", _("Weighed")
    REJECTED = "rejected", _("Rejected")
    CONSOLIDATED = "consolidated", _("Consolidated")
    SPLIT = "split", _("Split")
    TREATED = "treated", _("Treated")
    SIGNED = "signed", _("Manifest signed")
    CORRECTED = "corrected", _("Corrected")


class LedgerHead(models.Model):
    shard = models.PositiveSmallIntegerField(primary_key=True)
    seq = models.BigIntegerField(default=0)
    hash = models.CharField(max_length=64)


class LedgerFrontier(models.Model):
    """Per shard, the Merkle frontier of the entries sealed so far (``waste.verify.MerkleStream``):
    at most one subtree digest per bit of ``size``, so that the next seal hashes only the entries
    added since. Written by ``ledger_seal`` alone; derived data, rebuilt from the entries if lost."""

    shard = models.PositiveSmallIntegerField(primary_key=True)
    size = models.BigIntegerField(default=0)
    nodes = models.JSONField(default=list, help_text="[[subtree size, hex digest], …] left to right")


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise TypeError("the ledger is append-only: no update")

    def delete(self):
        raise TypeError("the ledger is append-only: no delete")


class AppendOnly(models.Model):
    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise TypeError("the ledger is append-only: an entry is never saved twice")
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise TypeError("the ledger is append-only: no delete")


class LedgerEntry(AppendOnly):
    shard = models.PositiveSmallIntegerField()
    seq = models.BigIntegerField()
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)
    event_id = models.UUIDField(unique=True)
    event_type = models.CharField(max_length=14, choices=EventType.choices)
    batch = models.ForeignKey(Batch, null=True, on_delete=models.PROTECT, related_name="events")
    batch_code = models.CharField(max_length=16, blank=True)
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    site = models.ForeignKey(Site, null=True, on_delete=models.PROTECT, related_name="events")
    location = models.PointField(srid=WGS84, null=True)
    quantity_kg = models.DecimalField(max_digits=12, decimal_places=3, null=True)
    event_time = models.DateTimeField(help_text="when it happened (device clock)")
    recorded_at = models.DateTimeField(help_text="when the server appended it")
    flags = models.CharField(max_length=100, blank=True, help_text="comma-separated, e.g. off_site")
    data = models.TextField(help_text="canonical JSON with the event's other fields")

    SCOPE = {
        "orgs": ("organisation", "batch__organisation", "batch__parties__organisation"),
        "geo": ("site__location",),
    }

    class Meta:
        constraints = [models.UniqueConstraint(fields=["shard", "seq"], name="ledger_shard_seq")]
        indexes = [
            models.Index(fields=["batch", "event_time"]),
            models.Index(fields=["event_type", "event_time"]),
            models.Index(fields=["organisation", "event_time"]),
            # The indicators' fate times (last treatment, last pickup per batch) by an index-only scan.
            models.Index(
                fields=["batch", "event_type", "event_time"],
                name="ledger_fate_times",
                condition=models.Q(event_type__in=["treated", "picked_up"]),
            ),
        ]
        ordering = ["id"]
        verbose_name_plural = "ledger entries"

    def __str__(self) -> str:
        return f"#{self.pk} {self.event_type} {self.batch_code}"


class LedgerCheckpoint(AppendOnly):
    """Signed Merkle root over the heads of every shard at one moment."""

    created_at = models.DateTimeField()
    size = models.BigIntegerField(help_text="entries covered")
    heads = models.JSONField(help_text='{"shard": [seq, hash]}')
    root = models.CharField(max_length=64)
    signature = models.CharField(max_length=100, help_text="base64 Ed25519 signature")
    public_key = models.CharField(max_length=64, help_text="base64 Ed25519 public key")
    # Merkle root over every entry's hash ordered by (shard, seq) up to the heads: exports prove
    # their rows against it with inclusion proofs (waste.verify).
    entries_root = models.CharField(max_length=64, blank=True)
    entries_signature = models.CharField(max_length=100, blank=True, help_text="base64 Ed25519 signature")
    # The shape of that tree (waste.verify.TREE): 1, one tree over all entries; 2, one per shard.
    entries_tree = models.PositiveSmallIntegerField(default=1)

    class Meta:
        ordering = ["id"]
