"""The device each API token was issued to, so that a user can see where they are signed in and revoke it."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Device(models.Model):
    """One signed-in device: a knox token with a name. Revoking deletes the token (and this row with it)."""

    token = models.OneToOneField(settings.KNOX_TOKEN_MODEL, on_delete=models.CASCADE, related_name="device")
    name = models.CharField(_("name"), max_length=100, blank=True)
    user_agent = models.CharField(_("browser"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("signed in at"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)

    def __str__(self) -> str:
        return self.name or self.user_agent[:40]
