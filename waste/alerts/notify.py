"""Telling people and systems about a new alert: e-mail and signed webhooks.

A webhook request is a POST of JSON; ``X-Signature: sha256=<hex>`` is the HMAC-SHA256 of the raw
body with the webhook's secret, ``X-Timestamp`` repeats the body's ``sent_at`` (also signed, since it
is in the body) so receivers can refuse replays. Failed deliveries are retried by Celery with
exponential backoff; after WEBHOOK_MAX_FAILURES consecutive failures the webhook is disabled.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import json
import logging
import urllib.error
import urllib.request

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import F
from django.utils import timezone, translation
from django.utils.translation import gettext, gettext_noop

from waste.models import Alert, Jurisdiction, Organisation, Webhook, WebhookDelivery
from waste.services.jobs import outbox_enqueue

log = logging.getLogger(__name__)
ALERT_EVENT = "alert.raised"


def alert_payload(alert: Alert) -> dict:
    return {
        "id": alert.pk,
        "rule": alert.rule,
        "cause": alert.cause,
        "severity": alert.severity,
        "message": alert.message,  # English, as raised; "rule" and "params" are the machine-readable form
        "params": alert.params,
        "status": alert.status,
        "raised_at": alert.raised_at.isoformat(),
        "organisation": alert.organisation_id,
        "site": alert.site_id,
        "batch": alert.batch.code if alert.batch_id else None,
        "manifest": alert.manifest.number if alert.manifest_id else None,
        "data": alert.data,
    }


def _audience(alert: Alert) -> list[Organisation]:
    """The organisation concerned and the regulators whose jurisdiction holds the alert's place."""
    orgs = [alert.organisation] if alert.organisation_id else []
    if alert.location is not None:
        regulators = Organisation.objects.filter(
            is_regulator=True,
            pk__in=Jurisdiction.objects.filter(area__intersects=alert.location).values("organisation"),
        )
        orgs += [o for o in regulators if o not in orgs]
    return orgs


def _emails(org: Organisation) -> list[str]:
    if org.contact_email:
        return [org.contact_email]
    users = get_user_model().objects.filter(memberships__organisation=org).exclude(email="")
    return sorted(set(users.values_list("email", flat=True)))


SEVERITIES = {"warning": gettext_noop("warning"), "critical": gettext_noop("critical")}


def _in(language: str, func):
    with translation.override(language):
        return func()


def alert_email(alert: Alert) -> tuple[str, str]:
    """Subject and body in Chinese first, English beside it: recipients are organisations' addresses,
    and the product stores no language per address."""

    def subject() -> str:
        return f"[{gettext(SEVERITIES.get(alert.severity, alert.severity))}] {alert.get_rule_display()}"

    def body() -> str:
        return "\n".join(
            [
                alert.text(),
                gettext("Alert #%(id)s, cause %(cause)s.") % {"id": alert.pk, "cause": alert.cause},
            ]
        )

    zh, en = _in("zh-hans", subject), _in("en", subject)
    return f"{zh} / {en}", f"{_in('zh-hans', body)}\n\n-- English --\n{_in('en', body)}\n"


def alert_notify(*, alert_id: int) -> None:
    alert = Alert.objects.select_related("batch", "manifest").filter(pk=alert_id).first()
    if alert is None:
        return
    audience = _audience(alert)
    for org in audience:
        recipients = _emails(org)
        if recipients:
            try:
                subject, body = alert_email(alert)
                send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, recipients)
            except Exception:  # a mail server down must not lose the webhooks
                log.exception("alert %s: e-mail to %s failed", alert.pk, recipients)
    payload = {"event": ALERT_EVENT, "alert": alert_payload(alert)}
    for hook in Webhook.objects.filter(organisation__in=audience, active=True):
        if hook.events and alert.rule not in hook.events and ALERT_EVENT not in hook.events:
            continue
        webhook_enqueue(webhook=hook, event=ALERT_EVENT, payload=payload)


WEBHOOK_TASK = "waste.tasks.webhook_deliver_task"


@transaction.atomic
def webhook_enqueue(*, webhook: Webhook, event: str, payload: dict) -> WebhookDelivery:
    """The delivery and its job, in one transaction (the outbox): a broker outage delays it, never loses it."""
    delivery = WebhookDelivery.objects.create(
        webhook=webhook, event=event, payload=payload, next_attempt_at=timezone.now()
    )
    outbox_enqueue(task=WEBHOOK_TASK, args=[delivery.pk])
    return delivery


def webhook_deliveries_sweep(*, now: datetime.datetime | None = None) -> int:
    """Pending deliveries whose attempt is overdue by more than a lease (the retry message was lost
    with its worker or its broker) are sent again. Receivers deduplicate on X-Delivery."""
    now = now or timezone.now()
    overdue = now - datetime.timedelta(seconds=settings.JOB_LEASE_SECONDS)
    count = 0
    for pk in list(
        WebhookDelivery.objects.filter(status="pending", next_attempt_at__lt=overdue).values_list("pk", flat=True)
    ):
        with transaction.atomic():
            if WebhookDelivery.objects.filter(pk=pk, status="pending", next_attempt_at__lt=overdue).update(
                next_attempt_at=now
            ):
                outbox_enqueue(task=WEBHOOK_TASK, args=[pk])
                count += 1
    return count


def signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def backoff_seconds(attempts: int) -> int:
    """30 s, 60 s, 120 s, ... after the 1st, 2nd, 3rd failure (capped at 6 h)."""
    return min(settings.WEBHOOK_RETRY_BASE_SECONDS * 2 ** max(attempts - 1, 0), 6 * 3600)


def _post(url: str, body: bytes, headers: dict) -> int:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    with urllib.request.urlopen(request, timeout=settings.WEBHOOK_TIMEOUT_SECONDS) as response:  # noqa: S310
        return response.status


def webhook_deliver(*, delivery_id: int) -> int | None:
    """One attempt. Returns the seconds to wait before retrying, or None when there is nothing to retry."""
    delivery = WebhookDelivery.objects.select_related("webhook").filter(pk=delivery_id).first()
    if delivery is None or delivery.status == "delivered":
        return None
    hook = delivery.webhook
    if not hook.active:
        WebhookDelivery.objects.filter(pk=delivery.pk, status="pending").update(
            status="failed", last_error=f"webhook disabled: {hook.disabled_reason}", next_attempt_at=None
        )
        return None
    sent_at = timezone.now().isoformat()
    body = json.dumps(
        {**delivery.payload, "delivery": delivery.pk, "sent_at": sent_at},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    ).encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "zerowaste-webhooks/1",
        "X-Signature": signature(hook.secret, body),
        "X-Timestamp": sent_at,
        "X-Event": delivery.event,
        "X-Delivery": str(delivery.pk),
    }
    attempts = delivery.attempts + 1
    try:
        status = _post(hook.url, body, headers)
        error = "" if 200 <= status < 300 else f"HTTP {status}"
    except urllib.error.HTTPError as exc:
        error = f"HTTP {exc.code}"
    except (urllib.error.URLError, OSError, ValueError) as exc:
        error = f"{type(exc).__name__}: {getattr(exc, 'reason', exc)}"
    now = timezone.now()
    if not error:
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            status="delivered", attempts=attempts, delivered_at=now, last_error="", next_attempt_at=None
        )
        Webhook.objects.filter(pk=hook.pk).update(consecutive_failures=0)
        return None
    Webhook.objects.filter(pk=hook.pk).update(consecutive_failures=F("consecutive_failures") + 1)
    failures = Webhook.objects.values_list("consecutive_failures", flat=True).get(pk=hook.pk)
    if failures >= settings.WEBHOOK_MAX_FAILURES:
        Webhook.objects.filter(pk=hook.pk, active=True).update(
            active=False, disabled_reason=f"disabled after {failures} consecutive failures; last: {error}"[:300]
        )
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            status="failed", attempts=attempts, last_error=error, next_attempt_at=None
        )
        return None
    wait = backoff_seconds(attempts)
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        status="pending", attempts=attempts, last_error=error, next_attempt_at=now + datetime.timedelta(seconds=wait)
    )
    return wait
