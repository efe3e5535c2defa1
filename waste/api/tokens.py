"""Token authentication with a short-lived cache of digest -> user, so that a scan costs no query for it.

knox looks a token up by its key, joins its user and then reads every other token of the user to
delete expired ones: two statements on every request. A device scanning all day repeats the same
token, so the answer is kept in the cache backend (Redis in production) for ``TTL`` seconds, keyed by
the token's digest. Revocation still takes effect at once: deleting a token (logout, "log out
everywhere", a user deleted) or saving its user (deactivated, demoted) removes the cached answers
before the transaction that did it commits. knox's renewal of a token's expiry is throttled to once a
minute anyway (MIN_REFRESH_INTERVAL), so a cache of at most that long changes nothing: a miss runs
knox's own path, which renews.
"""

from __future__ import annotations

import binascii
import logging
from datetime import datetime

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import DEFAULT_DB_ALIAS, transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.utils import timezone
from knox.auth import TokenAuthentication
from knox.crypto import hash_token
from knox.models import AuthToken
from knox.settings import knox_settings

logger = logging.getLogger(__name__)

TTL = min(60, knox_settings.MIN_REFRESH_INTERVAL)
# What a request may read of its user without a query; anything else (the password hash is never
# cached) loads on first access, as a deferred field does.
# Model.from_db takes the values in the model's field order.
_USER_WANTED = {"id", "username", "first_name", "last_name", "email", "is_active", "is_staff", "is_superuser"}
USER_FIELDS = tuple(f.attname for f in get_user_model()._meta.concrete_fields if f.attname in _USER_WANTED)
TOKEN_FIELDS = tuple(f.attname for f in AuthToken._meta.concrete_fields)  # digest, key, user, created, expiry


def _key(digest: str) -> str:
    return f"knox-user:{digest}"


def token_cache_shared() -> bool:
    """Only a cache every process shares (Redis) can forget a revoked token everywhere at once; with a
    per-process cache (no REDIS_URL) every request asks the database, as knox does."""
    backend = settings.CACHES["default"]["BACKEND"]
    return not backend.endswith(("LocMemCache", "DummyCache"))


class CachedTokenAuthentication(TokenAuthentication):
    def authenticate_credentials(self, token: bytes):
        if not token_cache_shared():
            return super().authenticate_credentials(token)
        try:
            digest = hash_token(token.decode("utf-8"))
        except (TypeError, ValueError, binascii.Error):
            return super().authenticate_credentials(token)  # knox refuses it in its own words
        cached = _cache_get(digest)
        if cached is not None:
            token_values, user_values = cached
            expiry: datetime | None = token_values[TOKEN_FIELDS.index("expiry")]
            if expiry is None or expiry > timezone.now():
                User = get_user_model()
                user = User.from_db(DEFAULT_DB_ALIAS, USER_FIELDS, user_values)
                auth_token = AuthToken.from_db(DEFAULT_DB_ALIAS, TOKEN_FIELDS, token_values)
                auth_token.user = user
                return user, auth_token
        user, auth_token = super().authenticate_credentials(token)
        _cache_set(digest, auth_token, user)
        return user, auth_token


def _cache_get(digest: str):
    try:
        return cache.get(_key(digest))
    except Exception:  # a cache that is down only costs the two queries it saves
        logger.warning("token cache unavailable", exc_info=True)
        return None


def _cache_set(digest: str, auth_token: AuthToken, user) -> None:
    ttl = TTL
    if auth_token.expiry is not None:
        ttl = min(ttl, int((auth_token.expiry - timezone.now()).total_seconds()))
    if ttl <= 0:
        return
    values = (
        tuple(getattr(auth_token, name) for name in TOKEN_FIELDS),
        tuple(getattr(user, name) for name in USER_FIELDS),
    )
    try:
        cache.set(_key(digest), values, ttl)
    except Exception:
        logger.warning("token cache unavailable", exc_info=True)


def tokens_forget(digests: list[str]) -> None:
    """Drops the cached answers for these tokens, now and again when the transaction commits (so that a
    request racing the revocation cannot put one back from the rows it read before)."""
    if not digests:
        return
    keys = [_key(d) for d in digests]
    cache.delete_many(keys)
    transaction.on_commit(lambda: cache.delete_many(keys))


@receiver(post_delete, sender=AuthToken)
def _token_deleted(sender, instance: AuthToken, **kwargs) -> None:
    tokens_forget([instance.digest])


@receiver(post_save, sender=get_user_model())
def _user_saved(sender, instance, created: bool, **kwargs) -> None:
    if not created:
        tokens_forget(list(AuthToken.objects.filter(user_id=instance.pk).values_list("digest", flat=True)))
