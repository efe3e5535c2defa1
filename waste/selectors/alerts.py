"""Reads for early-warning alerts: the ones a user may see, and the one they may change."""

from __future__ import annotations

from django.utils.translation import gettext as _

from waste.errors import AppError, NotFound
from waste.models import Alert, Membership
from waste.scoping import visible_to


def alert_list(*, user, status: str | None = None):
    alerts = visible_to(Alert.objects.select_related("batch", "manifest", "site", "organisation"), user)
    return alerts.filter(status=status) if status else alerts


def alert_get_for_change(*, user, alert_id: int) -> Alert:
    """An alert the user sees and may acknowledge or resolve (viewers may not): else 404/403."""
    alert = visible_to(Alert.objects.filter(pk=alert_id), user).first()
    if alert is None:
        raise NotFound(_("No such alert."), code="not_found")
    if not user.is_superuser and not Membership.objects.filter(user=user).exclude(role="viewer").exists():
        raise AppError(_("Viewers cannot change alerts."), code="read_only", status=403)
    return alert
