"""A write a device may resend, answered through ``waste.services.idempotency.idempotent_call`` with the
request's Idempotency-Key header (described once in the schema: ``waste.api.schema.IDEMPOTENCY_KEY``)."""

from __future__ import annotations

from collections.abc import Callable

from rest_framework.response import Response

from waste.services.idempotency import idempotent_call


def idempotent_response(request, *, scope: str, handler: Callable[[], tuple[int, dict]]) -> Response:
    """Runs ``handler`` (returning (status, json body)) at most once per key; a resend with the same key
    and body gets the first answer, whatever the handler would say now."""
    status, body, _replayed = idempotent_call(
        user=request.user,
        scope=scope,
        key=request.headers.get("Idempotency-Key"),
        body=request.data,
        handler=handler,
    )
    return Response(body, status=status)
