"""Roadside control: the page behind a load's QR, opened by an inspector without login, and the
manifest as a PDF. Read-only; the signed link (waste.roadside) is valid for 30 minutes. Routed in
config/urls.py (``roadside``, ``roadside-pdf``) beside the public QR page of a batch."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache

from waste.documents.manifest import manifest_pdf
from waste.errors import AppError
from waste.roadside import roadside_manifest


def _refused(request, error: AppError):
    return render(request, "web/roadside/invalid.html", {"message": error.message}, status=error.status)


@never_cache
def roadside_page(request, token: str):
    try:
        manifest = roadside_manifest(token)
    except AppError as error:
        return _refused(request, error)
    lines = list(manifest.lines.select_related("batch__waste").order_by("id"))
    context = {
        "manifest": manifest,
        "lines": lines,
        "total_kg": sum(line.quantity_kg for line in lines),
        "hazardous": any(line.batch.is_hazardous for line in lines),
        "carriers": list(manifest.carriers.select_related("organisation", "driver", "signed_by").order_by("order")),
        "token": token,
        "title": manifest.number,
    }
    response = render(request, "web/roadside/manifest.html", context)
    response["X-Robots-Tag"] = "noindex"
    return response


@never_cache
def roadside_pdf(request, token: str):
    try:
        manifest = roadside_manifest(token)
    except AppError as error:
        return _refused(request, error)
    response = HttpResponse(manifest_pdf(manifest), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="manifest-{manifest.number}.pdf"'
    return response
