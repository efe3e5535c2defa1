from __future__ import annotations

from django.utils.translation import gettext as _

from waste.errors import NotFound
from waste.models import ExportJob
from waste.scoping import visible_to


def export_get(*, user, export_id) -> ExportJob:
    """An export the user may see (the one who requested it), or 404."""
    job = visible_to(ExportJob.objects.filter(pk=export_id), user).first()
    if job is None:
        raise NotFound(_("No such export."), code="not_found")
    return job
