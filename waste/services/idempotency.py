"""Idempotency keys: one general mechanism for every retried write (scans, bulk uploads, ...).

The first answer for (user, scope, key) is stored with a hash of the request body; a retry with
the same key and body gets that answer back and writes nothing; the same key with another body
is a conflict.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass

from django.db import IntegrityError, connection, transaction
from django.utils import timezone
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
        with transaction.atomic():  # the handler's writes stand or fall together, as with a key
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
    except AppError:
        # A concurrent retry with the same key may have committed while this one waited for its
        # locks, and so been refused by what the first one did: the first answer stands.
        existing = IdempotencyRecord.objects.filter(user=user, scope=scope, key=key).first()
        if existing is None:
            raise
        return _replay(existing, fingerprint)
    except IntegrityError:
        # A concurrent retry with the same key committed first: its answer stands.
        existing = IdempotencyRecord.objects.filter(user=user, scope=scope, key=key).first()
        if existing is None:
            raise
        return _replay(existing, fingerprint)
    return status, response, False


@dataclass
class Keyed:
    """One item of a batch of idempotent writes: its key and its request body."""

    key: str
    body: object
    fingerprint: str = ""

    def __post_init__(self):
        self.fingerprint = request_fingerprint(self.body)


@dataclass
class Answer:
    status: int  # HTTP-like: 2xx stored and replayed, 4xx refused and not stored
    body: dict
    replayed: bool = False
    error: AppError | None = None


def idempotent_many(
    *, user, scope: str, items: list[Keyed], handler: Callable[[list[int]], list[Answer]], attempts: int = 3
) -> list[Answer]:
    """``idempotent_call`` for many keys at once, set-based: one read of the known keys, one insert
    of the new answers, in the caller's transaction (``handler`` writes in it too).

    ``handler`` gets the indexes of the items to run (first uses of keys not seen before) and answers
    each. A key used twice in ``items`` answers like a retry; with another body, like a reused key.
    If a concurrent call commits one of the keys first, the whole call runs again (up to ``attempts``),
    so that its answer is replayed and nothing is written twice.
    """
    for attempt in range(attempts):
        try:
            with transaction.atomic():
                return _many(user, scope, items, handler)
        except IntegrityError:
            if attempt == attempts - 1:
                raise
    raise AssertionError("unreachable")


def _many(user, scope: str, items: list[Keyed], handler) -> list[Answer]:
    known = {r.key: r for r in IdempotencyRecord.objects.filter(user=user, scope=scope, key__in={i.key for i in items})}
    answers: list[Answer | None] = [None] * len(items)
    first: dict[str, int] = {}
    later: list[int] = []
    for index, item in enumerate(items):
        if item.key in known or item.key in first:
            later.append(index)
        else:
            first[item.key] = index
    for index, answer in zip(first.values(), handler(list(first.values())), strict=True):
        answers[index] = answer
    refused = {items[i].key: i for i in first.values() if answers[i].error is not None}
    stored = set()
    if refused:
        # A concurrent call with the same keys may have committed while this one waited for its
        # locks, and so been refused by what it did: its answers stand.
        for record in IdempotencyRecord.objects.filter(user=user, scope=scope, key__in=refused):
            index = refused[record.key]
            try:
                status, body, replayed = _replay(record, items[index].fingerprint)
                answers[index] = Answer(status=status, body=body, replayed=replayed)
            except AppError as exc:
                answers[index] = Answer(status=exc.status, body={}, error=exc)
            stored.add(record.key)
    _records_insert(
        user,
        scope,
        [
            (items[i].key, items[i].fingerprint, answers[i].status, answers[i].body)
            for key, i in first.items()
            if answers[i].status < 300 and key not in stored
        ],
    )
    for index in later:
        item = items[index]
        record = known.get(item.key)
        if record is None:
            earlier = first[item.key]
            if answers[earlier].error is not None and items[earlier].fingerprint == item.fingerprint:
                answers[index] = answers[earlier]  # the same refused request: the same refusal
                continue
            record = IdempotencyRecord(
                request_hash=items[earlier].fingerprint,
                status_code=answers[earlier].status,
                response=answers[earlier].body,
            )
        try:
            status, body, replayed = _replay(record, item.fingerprint)
            answers[index] = Answer(status=status, body=body, replayed=replayed and status < 300)
        except AppError as exc:
            answers[index] = Answer(status=exc.status, body={}, error=exc)
    return answers


def _records_insert(user, scope: str, rows: list[tuple[str, str, int, dict]]) -> None:
    """Stores the answers, (key, request hash, status, body) each. On PostgreSQL one raw INSERT with one
    array per column, whatever the number of rows: bulk_create builds a model instance and binds six
    placeholders per record, which cost a bulk upload more CPU than the database spends storing them."""
    if not rows:
        return
    if connection.vendor != "postgresql":
        IdempotencyRecord.objects.bulk_create(
            [
                IdempotencyRecord(user=user, scope=scope, key=k, request_hash=h, status_code=s, response=b)
                for k, h, s, b in rows
            ],
            batch_size=1000,
        )
        return
    keys, hashes, statuses, bodies = (list(column) for column in zip(*rows, strict=True))
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO waste_idempotencyrecord (user_id, scope, key, request_hash, status_code, response, created_at)"
            " SELECT %s, %s, v.key, v.hash, v.status, v.body::jsonb, %s"
            " FROM unnest(%s::text[], %s::text[], %s::smallint[], %s::text[]) AS v(key, hash, status, body)",
            [user.pk, scope, timezone.now(), keys, hashes, statuses, [json.dumps(b) for b in bodies]],
        )


def _replay(record: IdempotencyRecord, fingerprint: str):
    if record.request_hash != fingerprint:
        raise Conflict.field(
            "Idempotency-Key", _("This key was already used with a different request."), code="idempotency_key_reused"
        )
    return record.status_code, record.response, True
