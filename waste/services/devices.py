"""Writes for signed-in devices: sign a device in (a knox token with a name), mark it used, revoke it."""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from knox.models import AuthToken

from waste.errors import NotFound
from waste.models import Device

# "Last used" is a hint for the user, not an audit trail: one write per device per minute at most.
LAST_USED_RESOLUTION = timedelta(minutes=1)


@transaction.atomic
def device_sign_in(*, user, name: str = "", user_agent: str = "") -> tuple[Device, str]:
    """A new token for this user on one device; returns the device and the token (shown once)."""
    instance, token = AuthToken.objects.create(user=user)
    device = Device.objects.create(token=instance, name=name.strip()[:100], user_agent=user_agent[:300])
    return device, token


def device_touch(*, token: AuthToken) -> None:
    now = timezone.now()
    stale = Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - LAST_USED_RESOLUTION)
    Device.objects.filter(stale, token=token).update(last_used_at=now)


@transaction.atomic
def device_revoke(*, user, device_id: int) -> None:
    """Signs the device out: its token is deleted, so its next request answers 401."""
    device = Device.objects.select_related("token").filter(pk=device_id, token__user=user).first()
    if device is None:
        raise NotFound(_("No such device among yours."), code="unknown_device")
    device.token.delete()
