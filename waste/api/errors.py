"""One JSON error shape for every 4xx: {"error": {"code", "message", "fields"}}."""

from __future__ import annotations

import logging

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import InterfaceError, OperationalError
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from waste.errors import AppError

logger = logging.getLogger(__name__)


def flatten(detail, prefix: str = "") -> dict[str, list[str]]:
    """DRF's nested error detail -> {"containers.0.count": ["..."]}."""
    out: dict[str, list[str]] = {}
    if isinstance(detail, dict):
        for key, value in detail.items():
            key = "" if key in ("non_field_errors", "__all__") else str(key)
            path = f"{prefix}.{key}" if prefix and key else (prefix or key)
            for p, msgs in flatten(value, path).items():
                out.setdefault(p, []).extend(msgs)
    elif isinstance(detail, list):
        if all(not isinstance(item, (dict, list)) for item in detail):
            out.setdefault(prefix, []).extend(str(item) for item in detail)
        else:
            for index, item in enumerate(detail):
                if item:
                    out.update(flatten(item, f"{prefix}.{index}" if prefix else str(index)))
    else:
        out.setdefault(prefix, []).append(str(detail))
    return out


def error_response(status_code: int, code: str, message: str, fields=None, headers=None) -> Response:
    body = {"error": {"code": code, "message": message, "fields": fields or {}}}
    return Response(body, status=status_code, headers=headers)


def _first_message(fields: dict[str, list[str]], default: str) -> str:
    for path, messages in fields.items():
        if messages:
            return f"{path}: {messages[0]}" if path else messages[0]
    return default


DATABASE_RETRY_AFTER = 5  # seconds: a restarting PostgreSQL is usually back within a few


def database_unavailable() -> Response:
    """The database itself is gone (restarting, unreachable): the request may be sent again after
    Retry-After; with the same Idempotency-Key it is recorded once, whatever happened to the first."""
    return error_response(
        503,
        "database_unavailable",
        _(
            "The database is unavailable for a moment. Send the same request again shortly; "
            "with the same Idempotency-Key it is recorded only once."
        ),
        None,
        {"Retry-After": str(DATABASE_RETRY_AFTER)},
    )


def exception_handler(exc, context):
    if isinstance(exc, (OperationalError, InterfaceError)):
        logger.warning("database unavailable: %s", exc)
        return database_unavailable()
    if isinstance(exc, AppError):
        return error_response(exc.status, exc.code, exc.message, exc.fields)
    if isinstance(exc, DjangoValidationError):
        fields = flatten(exc.message_dict if hasattr(exc, "error_dict") else exc.messages)
        return error_response(400, "invalid", _first_message(fields, _("Invalid input.")), fields)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        fields = flatten(exc.detail)
        return error_response(400, "invalid", _first_message(fields, _("Invalid input.")), fields)
    detail = getattr(exc, "detail", str(exc))
    code = getattr(detail, "code", None) or getattr(exc, "default_code", "error")
    if response.status_code == status.HTTP_401_UNAUTHORIZED:
        code = "not_authenticated"
    headers = {k: v for k, v in response.items() if k in ("WWW-Authenticate", "Retry-After", "Allow")}
    return error_response(response.status_code, str(code), str(detail), None, headers)
