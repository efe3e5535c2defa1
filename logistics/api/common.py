"""Small helpers shared by the logistics API views."""

from __future__ import annotations

from django.utils.translation import gettext as _

from waste.api.lookups import row_or_error
from waste.errors import AppError
from waste.models import Organisation, Site
from waste.scoping import visible_to


def visible_object(model, user, pk, field: str):
    """A row the user may see, or a 400 naming the field (invisible rows look like missing ones)."""
    return row_or_error(visible_to(model.objects.all(), user), pk, field)


def organisation(user, pk, field: str = "hauler") -> Organisation | None:
    if field != "hauler":
        return visible_object(Organisation, user, pk, field)
    if pk is None:
        return None
    # Haulers are public parties: anyone may name one; acting for it is checked by the service.
    hauler = Organisation.objects.filter(pk=pk, is_hauler=True).first()
    if hauler is None:
        raise AppError.field(field, _("No such hauler."), code="unknown")
    return hauler


def site(user, pk, field: str = "site") -> Site | None:
    return visible_object(Site, user, pk, field)
