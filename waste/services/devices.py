"""Writes for signed-in devices: sign a device in (a knox token with a name), mark it used, revoke it."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from knox.models import AuthToken

from waste.errors import NotFound
from waste.models import Device


@transaction.atomic
def device_sign_in(*, user, name: str = "", user_agent: str = "") -> tuple[Device, str]:
    """A new token for this user on one device; returns the device and the token (shown once)."""
    instance, token = AuthToken.objects.create(user=user)
    device = Device.objects.create(
        token=instance, name=name.strip()[:100], user_agent=user_agent[:300], last_used_at=timezone.now()
    )
    return device, token


def device_touch(*, token: AuthToken) -> None:
    """The device was used now ("last used" is a hint to the user, to the minute; see
    waste.api.authentication for when it is called)."""
    Device.objects.filter(token=token).update(last_used_at=timezone.now())


@transaction.atomic
def device_revoke(*, user, device_id: int) -> None:
    """Signs the device out: its token is deleted, so its next request answers 401."""
    device = Device.objects.select_related("token").filter(pk=device_id, token__user=user).first()
    if device is None:
        raise NotFound(_("No such device among yours."), code="unknown_device")
    device.token.delete()
