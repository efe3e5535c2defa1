"""Writes for alerts: raise once per cause, acknowledge, resolve (compare-and-set)."""

from __future__ import annotations

import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from waste.alerts.rules import Hit, rules_all
from waste.errors import Conflict
from waste.models import Alert, AlertStatus
from waste.models.compliance import alert_text


def alert_text_in(language: str, message_id: str, params: dict) -> str:
    with translation.override(language):
        return alert_text(message_id, params)


def alert_raise(*, rule: str, hit: Hit) -> tuple[Alert, bool]:
    """The alert for (rule, cause), created if new; (alert, created). New alerts notify on commit."""
    existing = Alert.objects.filter(rule=rule, cause=hit.cause).first()
    if existing is not None:
        return existing, False
    # Where a regulator sees it: the site, else where the batch came from (e.g. one lost in transit).
    place = (
        hit.site or (hit.batch.origin_site if hit.batch else None) or (hit.manifest.from_site if hit.manifest else None)
    )
    location = hit.location or (place.location if place is not None else None)
    try:
        with transaction.atomic():
            alert = Alert.objects.create(
                rule=rule,
                cause=hit.cause[:200],
                severity=hit.severity,
                message=alert_text_in("en", hit.message, hit.params),
                message_id=hit.message,
                params=hit.params,
                organisation=hit.organisation,
                site=hit.site,
                batch=hit.batch,
                manifest=hit.manifest,
                location=location,
                data=hit.data,
            )
    except IntegrityError:  # another scan raised it first
        return Alert.objects.get(rule=rule, cause=hit.cause[:200]), False
    from waste.alerts.notify import alert_notify

    transaction.on_commit(lambda: alert_notify(alert_id=alert.pk))
    return alert, True


def alerts_scan(*, now: datetime.datetime | None = None, rules: list[str] | None = None) -> dict[str, int]:
    """Runs every rule (or the named ones); returns how many new alerts each raised."""
    now = now or timezone.now()
    raised = {}
    for name, func in rules_all().items():
        if rules is not None and name not in rules:
            continue
        raised[name] = sum(alert_raise(rule=name, hit=hit)[1] for hit in func(now))
    return raised


def _move(alert: Alert, *, user, sources: tuple[str, ...], target: str, stamp: str) -> Alert:
    now = timezone.now()
    moved = Alert.objects.filter(pk=alert.pk, status__in=sources).update(
        status=target, **{f"{stamp}_at": now, f"{stamp}_by": user}
    )
    if moved != 1:
        alert.refresh_from_db()
        raise Conflict.field(
            "status",
            _("The alert is %(status)s; it cannot be %(target)s now.")
            % {
                "status": str(AlertStatus(alert.status).label).lower(),
                "target": str(AlertStatus(target).label).lower(),
            },
            code="not_allowed",
        )
    alert.refresh_from_db()
    return alert


def alert_acknowledge(*, alert: Alert, user) -> Alert:
    return _move(alert, user=user, sources=(AlertStatus.OPEN,), target=AlertStatus.ACKNOWLEDGED, stamp="acknowledged")


def alert_resolve(*, alert: Alert, user) -> Alert:
    return _move(
        alert,
        user=user,
        sources=(AlertStatus.OPEN, AlertStatus.ACKNOWLEDGED),
        target=AlertStatus.RESOLVED,
        stamp="resolved",
    )
