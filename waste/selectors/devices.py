"""Reads of signed-in devices: each user sees only their own."""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.utils import timezone

from waste.models import Device


def devices_for_user(*, user) -> QuerySet[Device]:
    """The user's devices whose token is still in force, most recently used first."""
    now = timezone.now()
    return (
        Device.objects.filter(Q(token__expiry__isnull=True) | Q(token__expiry__gt=now), token__user=user)
        .select_related("token")
        .order_by("-last_used_at", "-created_at")
    )
