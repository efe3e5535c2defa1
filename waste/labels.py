"""From a batch to what its label shows. The renderers in waste.documents know nothing of models."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.utils import timezone

from waste.documents import LabelData
from waste.i18n import both
from waste.models import Batch, PhysicalForm


def public_url(code: str) -> str:
    return f"{settings.PUBLIC_BASE_URL}/t/{code}"


def label_data(batch: Batch) -> LabelData:
    volumes = [Decimal(str(c["volume_l"])) for c in batch.containers if c.get("volume_l") not in (None, "")]
    org = batch.organisation
    return LabelData(
        code=batch.code,
        qr_payload=public_url(batch.code),
        waste_name=batch.waste.name,
        waste_code=batch.waste.display_code,
        category=batch.waste.parent_code if batch.is_hazardous else "",
        generation_date=timezone.localdate(batch.generated_at),
        generator_name=org.name,
        contact=" ".join(part for part in (org.contact_name, org.contact_phone) if part),
        quantity_kg=batch.quantity_kg,
        is_hazardous=batch.is_hazardous,
        physical_form=both(PhysicalForm(batch.physical_form).label, sep=" "),  # the label is bilingual (HJ 1276)
        main_components=batch.main_components or batch.description,
        hazard_traits=tuple(batch.traits),
        container_volume_l=max(volumes) if volumes else None,
    )
