"""Turning ids in a request body into rows, with the error naming the field when there is none."""

from __future__ import annotations

from django.utils.translation import gettext as _

from waste.errors import AppError


def row_or_error(queryset, pk, field: str, *, message: str | None = None, code: str = "unknown", status: int = 400):
    """The row with ``pk`` in ``queryset`` (None when ``pk`` is None), else an error under ``field``.

    Pass a scoped queryset where the caller may only name what they can see: an invisible row is
    answered exactly like a missing one.
    """
    if pk is None:
        return None
    row = queryset.filter(pk=pk).first()
    if row is None:
        raise AppError.field(field, message or _("Does not exist."), code=code, status=status)
    return row


def site_or_error(pk, field: str = "site"):
    from waste.models import Site

    return row_or_error(
        Site.objects.select_related("organisation"), pk, field, message=_("No such site."), code="unknown_site"
    )
