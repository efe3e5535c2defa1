"""Idempotency keys: one general mechanism for every retried write (scans, bulk uploads, ...).

The first answer for (user, scope, key) is stored with a hash of the request body; a retry with
the same key and body gets that answer back and writes nothing; the same key with another body
is a conflict.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from waste.errors import AppError, Conflict
from waste.models import IdempotencyRecord

MAX_KEY_LENGTH = 200


def request_fingerprint(body) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()


def idempotent_call(*, user, scope: str, key: str | None, body, handler: Callable[[], tuple[int, dict]]):
    """Runs ``handler`` (which returns (status, json body)) at most once per key.

    Returns (status, body, replayed).
    """
    if key is None:
        return (*handler(), False)
    if not key or len(key) > MAX_KEY_LENGTH:
        raise AppError.field(
            "Idempotency-Key",
            _("Give a key of 1 to %(max_key_length)s characters.") % {"max_key_length": MAX_KEY_LENGTH},
        )
    fingerprint = request_fingerprint(body)
    existing = IdempotencyRecord.objects.filter(user=user, scope=scope, key=key).first()
    if existing is not None:
        return _replay(existing, fingerprint)
    try:
        with transaction.atomic():
            status, response = handler()
            if status >= 500:
                return status, response, False
            IdempotencyRecord.objects.create(
                user=user, scope=scope, key=key, request_hash=fingerprint, status_code=status, response=response
            )
    except IntegrityError:
        # A concurrent retry with the same key committed first: its answer stands.
        existing = IdempotencyRecord.objects.filter(user=user, scope=scope, key=key).first()
        if existing is None:
            raise
        return _replay(existing, fingerprint)
    return status, response, False


def _replay(record: IdempotencyRecord, fingerprint: str):
    if record.request_hash != fingerprint:
        raise Conflict.field(
            "Idempotency-Key", _("This key was already used with a different request."), code="idempotency_key_reused"
        )
    return record.status_code, record.response, True
