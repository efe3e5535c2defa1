"""Finding things by what a person types: a batch code, a manifest number, an organisation's name or
unified social credit code. Every result is scoped by ``visible_to``: what a user cannot see is not found."""

from __future__ import annotations

from django.db.models import Q
from django.utils.translation import gettext as _

from waste.codes import batch_code_normalise
from waste.errors import NotFound
from waste.models import Organisation
from waste.scoping import visible_to
from waste.selectors.batches import batch_list
from waste.selectors.manifests import manifest_list

MAX_RESULTS = 20


def organisation_get(*, user, organisation_id: int) -> Organisation:
    organisation = visible_to(Organisation.objects.filter(pk=organisation_id), user).first()
    if organisation is None:
        raise NotFound(_("No such organisation."), code="unknown_organisation")
    return organisation


def search(*, user, query: str) -> dict:
    """{"batches", "manifests", "organisations"}: what ``query`` names, at most MAX_RESULTS of each.

    A batch matches its whole code (dashes and case ignored) or a prefix of at least 4 characters;
    a manifest its number or a prefix; an organisation a part of its name or its identifier (USCC)."""
    text = query.strip()
    code = batch_code_normalise(text)
    batches = batch_list(user=user).none()
    if len(code) >= 4:
        batches = batch_list(user=user).filter(code__startswith=code).order_by("code")
    manifests = manifest_list(user=user).none()
    if len(text) >= 4:
        manifests = manifest_list(user=user).filter(number__startswith=text).order_by("-created_at")
    organisations = visible_to(Organisation.objects.all(), user).none()
    if text:
        organisations = visible_to(
            Organisation.objects.filter(Q(name__icontains=text) | Q(identifier__iexact=text.upper())), user
        ).order_by("name")
    return {
        "batches": list(batches[:MAX_RESULTS]),
        "manifests": list(manifests[:MAX_RESULTS]),
        "organisations": list(organisations[:MAX_RESULTS]),
    }
