"""Write rate limit per API token (per user on a browser session): WRITE_THROTTLE_RATE.

Reads are not counted. Counts live in the cache (Redis in production, shared by every process);
a refusal is DRF's Throttled, which waste.api.errors answers as 429 with Retry-After in the one
error shape."""

from __future__ import annotations

from django.conf import settings
from rest_framework.permissions import SAFE_METHODS
from rest_framework.throttling import SimpleRateThrottle


class WriteRateThrottle(SimpleRateThrottle):
    scope = "write"

    def get_rate(self):
        # Read at request time (DRF reads its rates once, at import), so that the setting can change.
        return settings.WRITE_THROTTLE_RATE or None

    def allow_request(self, request, view):
        if request.method in SAFE_METHODS:
            return True
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return super().allow_request(request, view)

    def get_cache_key(self, request, view):
        token = getattr(request.auth, "token_key", None)
        if token:
            ident = f"token:{token}"
        elif request.user and request.user.is_authenticated:
            ident = f"user:{request.user.pk}"
        else:
            ident = f"address:{self.get_ident(request)}"
        return self.cache_format % {"scope": self.scope, "ident": ident}
