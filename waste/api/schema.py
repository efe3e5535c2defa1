"""OpenAPI schema: nested per-view serializers (InputSerializer, ItemSerializer, ...) get their view's name."""

from drf_spectacular.openapi import AutoSchema as BaseAutoSchema
from drf_spectacular.utils import OpenApiParameter

# The header of every write a device may resend (waste.services.idempotency.idempotent_call).
IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    str,
    OpenApiParameter.HEADER,
    description="retries with the same key and body return the first answer",
)

GENERIC = {"InputSerializer", "OutputSerializer", "ItemSerializer", "FilterSerializer"}


class AutoSchema(BaseAutoSchema):
    def get_serializer_name(self, serializer, direction):
        name = super().get_serializer_name(serializer, direction)
        cls = serializer.__class__.__name__
        if cls in GENERIC:
            view = self.view.__class__.__name__.removesuffix("Api")
            return view + cls.removesuffix("Serializer")
        return name
