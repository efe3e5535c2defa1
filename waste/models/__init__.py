from .batches import Batch, BatchLink, BatchParty, BatchStatus, LinkKind, PhysicalForm
from .catalogs import Catalog, CatalogEntry
from .compliance import (
    Alert,
    AlertRule,
    AlertStatus,
    ExportFormat,
    ExportJob,
    ExportKind,
    IndicatorInput,
    JobStatus,
    Webhook,
    WebhookDelivery,
)
from .devices import Device
from .idempotency import IdempotencyRecord
from .jobs import OutboxMessage, PeriodicLease
from .ledger import EventType, LedgerCheckpoint, LedgerEntry, LedgerFrontier, LedgerHead
from .manifests import Manifest, ManifestCarrier, ManifestLine, ManifestSerial, ManifestStatus
from .parties import IdScheme, Jurisdiction, MemberRole, Membership, Organisation, Role
from .sites import RECEIVING_KINDS, Permit, Site, SiteKind

__all__ = [
    "Alert",
    "AlertRule",
    "AlertStatus",
    "ExportFormat",
    "ExportJob",
    "ExportKind",
    "IndicatorInput",
    "JobStatus",
    "Webhook",
    "WebhookDelivery",
    "Batch",
    "BatchLink",
    "BatchParty",
    "BatchStatus",
    "Catalog",
    "CatalogEntry",
    "Device",
    "EventType",
    "IdScheme",
    "IdempotencyRecord",
    "OutboxMessage",
    "PeriodicLease",
    "Jurisdiction",
    "LedgerCheckpoint",
    "LedgerEntry",
    "LedgerFrontier",
    "LedgerHead",
    "LinkKind",
    "Manifest",
    "ManifestCarrier",
    "ManifestLine",
    "ManifestSerial",
    "ManifestStatus",
    "MemberRole",
    "Membership",
    "Organisation",
    "PhysicalForm",
    "Permit",
    "RECEIVING_KINDS",
    "Role",
    "Site",
    "SiteKind",
]
