"""Batches that a treatment produces: secondary materials and residues, linked to the treated batch.

Kept in `waste` (lineage and the ledger live here) so that `recycling` can record treatments
without writing batches or ledger rows itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from waste.codes import batch_code_new
from waste.errors import AppError
from waste.models import Batch, BatchLink, BatchStatus, LinkKind, Site
from waste.selectors.catalogs import catalog_entry_lookup
from waste.services.batches import WASTE_CATALOGS, batch_party_add
from waste.services.ledger import NewEvent, ledger_append

LINK_KINDS = {"secondary": LinkKind.OUTPUT, "residue": LinkKind.RESIDUE}


@dataclass
class OutputSpec:
    kind: str  # "secondary" or "residue"
    quantity_kg: Decimal
    material: str = ""
    grade: str = ""
    waste_code: str | None = None  # None: a secondary material keeps the treated batch's classification
    code: str = ""  # batch code; generated if empty (callers pre-generate it to cite it in the treatment event)
    field: str = "outputs"


def output_entry(*, spec: OutputSpec, parent: Batch, on):
    """The catalog entry an output is classified under; residues must name theirs."""
    if not spec.waste_code:
        if spec.kind == "residue":
            raise AppError.field(
                f"{spec.field}.waste_code",
                _("A residue needs its waste code, e.g. 19 01 12 or 772-002-18."),
                code="required",
            )
        return parent.waste
    entry = catalog_entry_lookup(code=spec.waste_code, on=on, field=f"{spec.field}.waste_code")
    if entry.catalog.key not in WASTE_CATALOGS:
        raise AppError.field(
            f"{spec.field}.waste_code",
            _("%(display_code)s is a category or operation, not a waste code.") % {"display_code": entry.display_code},
        )
    return entry


@transaction.atomic
def batch_outputs_create(
    *, user, parent: Batch, site: Site, operation: str, event_time: datetime, outputs: list[OutputSpec]
) -> list[Batch]:
    """New batches, received and held at ``site``, each linked OUTPUT/RESIDUE to ``parent``,
    each with a ``generated`` ledger event that names the treatment it came from."""
    on = timezone.localdate(event_time)
    entries = [output_entry(spec=spec, parent=parent, on=on) for spec in outputs]
    organisation = site.organisation
    children, events = [], []
    for spec, entry in zip(outputs, entries, strict=True):
        if spec.kind not in LINK_KINDS:
            raise AppError.field(f"{spec.field}.kind", _("Use secondary or residue."))
        child = Batch.objects.create(
            code=spec.code or batch_code_new(),
            organisation=organisation,
            origin_site=site,
            waste=entry,
            description=f"{spec.material} ({spec.kind}) from {operation} of {parent.code}".strip(),
            main_components=spec.material,
            quantity_kg=spec.quantity_kg,
            physical_form=parent.physical_form,
            hazard_traits=entry.hazard_traits,
            is_hazardous=entry.is_hazardous,
            status=BatchStatus.RECEIVED,
            current_site=site,
            holder=organisation,
            generated_at=event_time,
            created_by=user,
            last_weight_kg=spec.quantity_kg,
        )
        BatchLink.objects.create(parent=parent, child=child, kind=LINK_KINDS[spec.kind], quantity_kg=spec.quantity_kg)
        batch_party_add(child, organisation)
        children.append(child)
        events.append(
            NewEvent(
                event_type="generated",
                organisation=organisation,
                event_time=event_time,
                batch=child,
                user=user,
                site=site,
                location=site.location,
                quantity_kg=spec.quantity_kg,
                data={
                    "waste_code": entry.code,
                    "catalog": f"{entry.catalog.key}@{entry.catalog.version}",
                    "hazardous": entry.is_hazardous,
                    "treatment_of": parent.code,
                    "operation": operation,
                    "output_kind": spec.kind,
                    "material": spec.material,
                    "grade": spec.grade,
                },
            )
        )
    ledger_append(events=events)
    return children
