"""Helpers behind the shared partials in templates/web/components/ (see web/__init__.py)."""

from __future__ import annotations

from dataclasses import dataclass

from django.core.paginator import Paginator
from django.utils.translation import gettext_lazy as _

PAGE_SIZE = 25


def paginate(request, queryset, *, per_page: int = PAGE_SIZE):
    """The requested page of ``queryset`` (``?page=``; out-of-range or junk → the nearest page).

    The page carries ``querystring_base``: the request's other query parameters, so the pagination
    partial keeps filters when it links to another page."""
    page = Paginator(queryset, per_page).get_page(request.GET.get("page"))
    params = request.GET.copy()
    params.pop("page", None)
    page.querystring_base = params.urlencode()
    return page


@dataclass
class JobProgress:
    """What the progress partial shows for a background job (export, route plan, ...)."""

    status: str  # queued | running | done | failed
    progress: int  # 0..100
    poll_url: str  # htmx polls it every second until the job is done or failed
    result_url: str = ""
    result_label: str = ""
    message: str = ""
    error: str = ""

    @property
    def finished(self) -> bool:
        return self.status in ("done", "failed")

    @property
    def failed(self) -> bool:
        return self.status == "failed"

    @property
    def status_label(self) -> str:
        return str(STATUS_LABELS.get(self.status, self.status))


STATUS_LABELS = {
    "queued": _("Queued"),
    "running": _("Running"),
    "done": _("Done"),
    "failed": _("Failed"),
}


def job_progress(job, *, poll_url: str, result_url: str = "", result_label: str = "") -> JobProgress:
    """A ``JobProgress`` from any job model with ``status``, ``progress`` and ``error`` (and ``message``)."""
    return JobProgress(
        status=job.status,
        progress=max(0, min(100, int(job.progress or 0))),
        poll_url=poll_url,
        result_url=result_url if job.status == "done" else "",
        result_label=result_label,
        message=getattr(job, "message", "") or "",
        error=job.error or "",
    )
