"""Reads for what an organisation holds on its sites: the stock, and how long each batch has been there."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db.models import F
from django.utils import timezone

from waste.models import Batch, BatchStatus
from waste.scoping import visible_to

# Statuses of a batch that lies on a site of its holder (not on a truck, not merged, split or treated).
IN_STOCK = (BatchStatus.GENERATED, BatchStatus.RECEIVED, BatchStatus.STORED, BatchStatus.READY)
# Hazardous waste this close to the legal storage limit is highlighted before it becomes an alert.
STORAGE_WARNING_DAYS = 30


@dataclass
class StockRow:
    batch: Batch
    days: int  # whole days since the batch was generated (the legal storage limit counts from then)
    limit_days: int | None  # HAZARDOUS_STORAGE_LIMIT_DAYS for hazardous waste, None otherwise

    @property
    def weight_kg(self) -> Decimal:
        return self.batch.last_weight_kg or self.batch.quantity_kg

    @property
    def days_left(self) -> int | None:
        return None if self.limit_days is None else self.limit_days - self.days

    @property
    def beyond_limit(self) -> bool:
        return self.days_left is not None and self.days_left < 0

    @property
    def near_limit(self) -> bool:
        return self.days_left is not None and 0 <= self.days_left <= STORAGE_WARNING_DAYS


def stock_list(*, user, organisation, site_id: int | None = None):
    """Batches ``organisation`` holds on its own sites, oldest first (what must leave first)."""
    queryset = visible_to(Batch.objects.all(), user).filter(
        holder=organisation, current_site__organisation=F("holder"), status__in=IN_STOCK
    )
    if site_id:
        queryset = queryset.filter(current_site_id=site_id)
    return queryset.select_related("waste", "current_site", "organisation").order_by("generated_at", "id")


def stock_rows(batches, *, today: dt.date | None = None) -> list[StockRow]:
    today = today or timezone.localdate()
    limit = settings.HAZARDOUS_STORAGE_LIMIT_DAYS
    return [
        StockRow(
            batch=b,
            days=(today - timezone.localdate(b.generated_at)).days,
            limit_days=limit if b.is_hazardous else None,
        )
        for b in batches
    ]


def stock_near_limit_count(*, user, organisation, today: dt.date | None = None) -> int:
    """Hazardous batches in stock within STORAGE_WARNING_DAYS of the limit, or beyond it."""
    today = today or timezone.localdate()
    since = today - dt.timedelta(days=settings.HAZARDOUS_STORAGE_LIMIT_DAYS - STORAGE_WARNING_DAYS)
    cutoff = timezone.make_aware(dt.datetime.combine(since + dt.timedelta(days=1), dt.time.min))
    return stock_list(user=user, organisation=organisation).filter(is_hazardous=True, generated_at__lt=cutoff).count()
