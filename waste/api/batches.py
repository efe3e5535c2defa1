"""Batches: create, read, lineage and trace, QR codes and labels, EPCIS events, actions."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from waste import epcis
from waste.api.filters import IsoDateTimeFilter
from waste.api.lookups import site_or_error
from waste.codes import batch_code_normalise, batch_code_valid
from waste.documents import label_pdf, label_sheet_pdf, qr_png, qr_svg
from waste.errors import AppError
from waste.labels import label_data, public_url
from waste.lifecycle import allowed_actions
from waste.models import Batch, BatchStatus, PhysicalForm
from waste.selectors.batches import batch_events, batch_list, batch_list_by_codes, batch_trace
from waste.services import batches as services


class ContainerSerializer(serializers.Serializer):
    type = serializers.CharField(max_length=40)
    count = serializers.IntegerField(min_value=1, max_value=10_000)
    volume_l = serializers.DecimalField(max_digits=10, decimal_places=2, min_value=0, required=False)


class EventOutput(serializers.Serializer):
    id = serializers.IntegerField()
    event_id = serializers.UUIDField()
    event_type = serializers.CharField()
    organisation = serializers.CharField(source="organisation.name")
    site = serializers.CharField(source="site.name", allow_null=True, default=None)
    quantity_kg = serializers.DecimalField(max_digits=12, decimal_places=3, allow_null=True)
    event_time = serializers.DateTimeField()
    recorded_at = serializers.DateTimeField()
    flags = serializers.SerializerMethodField()
    hash = serializers.CharField()

    def get_flags(self, entry) -> list[str]:
        return [f for f in entry.flags.split(",") if f]


class BatchOutput(serializers.ModelSerializer):
    waste_code = serializers.CharField(source="waste.display_code")
    waste_name = serializers.CharField(source="waste.name")
    catalog = serializers.SerializerMethodField()
    hazard_traits = serializers.ListField(source="traits", child=serializers.CharField())
    qr = serializers.SerializerMethodField()
    allowed_actions = serializers.SerializerMethodField()

    class Meta:
        model = Batch
        fields = [
            "code",
            "qr",
            "status",
            "allowed_actions",
            "waste_code",
            "waste_name",
            "catalog",
            "is_hazardous",
            "hazard_traits",
            "description",
            "main_components",
            "quantity_kg",
            "estimated",
            "last_weight_kg",
            "physical_form",
            "containers",
            "organisation",
            "origin_site",
            "current_site",
            "holder",
            "final_operation",
            "generated_at",
            "created_at",
        ]

    def get_catalog(self, batch) -> str:
        return f"{batch.waste.catalog.key}@{batch.waste.catalog.version}"

    def get_qr(self, batch) -> str:
        return public_url(batch.code)

    def get_allowed_actions(self, batch) -> list[str]:
        return allowed_actions(batch.status)


class BatchDetailOutput(BatchOutput):
    generator = serializers.CharField(source="organisation.name", read_only=True)
    lineage = serializers.SerializerMethodField()
    events = serializers.SerializerMethodField()

    class Meta(BatchOutput.Meta):
        fields = BatchOutput.Meta.fields + ["generator", "lineage", "events"]

    def get_lineage(self, batch) -> dict:
        return {
            "parents": [
                {"code": lk.parent.code, "kind": lk.kind, "quantity_kg": str(lk.quantity_kg)}
                for lk in batch.parent_links.select_related("parent")
            ],
            "children": [
                {"code": lk.child.code, "kind": lk.kind, "quantity_kg": str(lk.quantity_kg)}
                for lk in batch.child_links.select_related("child")
            ],
        }

    def get_events(self, batch) -> list[dict]:
        return EventOutput(batch_events(batch), many=True).data


class BatchFilter(filters.FilterSet):
    status = filters.MultipleChoiceFilter(choices=BatchStatus.choices)
    site = filters.NumberFilter(field_name="origin_site")
    current_site = filters.NumberFilter()
    organisation = filters.NumberFilter()
    is_hazardous = filters.BooleanFilter()
    generated_after = IsoDateTimeFilter(field_name="generated_at", lookup_expr="gte")
    generated_before = IsoDateTimeFilter(field_name="generated_at", lookup_expr="lt")

    class Meta:
        model = Batch
        fields = [
            "status",
            "site",
            "current_site",
            "organisation",
            "is_hazardous",
            "generated_after",
            "generated_before",
        ]


class BatchListCreateApi(generics.ListAPIView):
    serializer_class = BatchOutput
    filterset_class = BatchFilter

    class InputSerializer(serializers.Serializer):
        waste_code = serializers.CharField(max_length=20)
        quantity_kg = serializers.DecimalField(max_digits=12, decimal_places=3)
        site = serializers.IntegerField(min_value=1)
        description = serializers.CharField(max_length=2000, allow_blank=True, required=False, default="")
        main_components = serializers.CharField(max_length=300, allow_blank=True, required=False, default="")
        physical_form = serializers.ChoiceField(PhysicalForm.choices, required=False, default=PhysicalForm.SOLID)
        containers = ContainerSerializer(many=True, required=False, max_length=50)
        hazard_traits = serializers.ListField(
            child=serializers.CharField(max_length=3), required=False, max_length=5, allow_empty=True
        )
        estimated = serializers.BooleanField(required=False, default=False)
        generated_at = serializers.DateTimeField(required=False)

    def get_queryset(self):
        return batch_list(user=self.request.user)

    @extend_schema(request=InputSerializer, responses={201: BatchOutput})
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        site = site_or_error(values.pop("site"))
        containers = [
            {**c, "volume_l": str(c["volume_l"]) if "volume_l" in c else None} for c in values.pop("containers", [])
        ]
        batch = services.batch_create(user=request.user, site=site, containers=containers, **values)
        return Response(BatchOutput(batch).data, status=201)


def batch_visible(request, code: str) -> Batch:
    canonical = batch_code_normalise(code)
    if not batch_code_valid(canonical):
        raise AppError.field("code", _("Not a batch code, or its check character is wrong."), code="invalid_code")
    return get_object_or_404(batch_list(user=request.user), code=canonical)


class BatchDetailApi(APIView):
    @extend_schema(responses=BatchDetailOutput)
    def get(self, request, code: str):
        return Response(BatchDetailOutput(batch_visible(request, code)).data)


class BatchTraceApi(APIView):
    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request, code: str):
        return Response(batch_trace(batch_visible(request, code)))


class BatchEventsJsonLdApi(APIView):
    @extend_schema(responses={(200, "application/ld+json"): OpenApiTypes.OBJECT})
    def get(self, request, code: str):
        batch = batch_visible(request, code)
        document = epcis.document(batch_events(batch).select_related("batch", "batch__waste"))
        return Response(document, content_type="application/ld+json")


def _binary(content: bytes, content_type: str, filename: str | None = None) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    if filename:
        response["Content-Disposition"] = f'inline; filename="{filename}"'
    return response


class BatchQrPngApi(APIView):
    @extend_schema(responses={(200, "image/png"): OpenApiTypes.BINARY})
    def get(self, request, code: str):
        batch = batch_visible(request, code)
        return _binary(qr_png(public_url(batch.code)), "image/png")


class BatchQrSvgApi(APIView):
    @extend_schema(responses={(200, "image/svg+xml"): OpenApiTypes.BINARY})
    def get(self, request, code: str):
        batch = batch_visible(request, code)
        return _binary(qr_svg(public_url(batch.code)), "image/svg+xml")


class BatchLabelPdfApi(APIView):
    @extend_schema(responses={(200, "application/pdf"): OpenApiTypes.BINARY})
    def get(self, request, code: str):
        batch = batch_visible(request, code)
        return _binary(label_pdf(label_data(batch)), "application/pdf", f"label-{batch.code}.pdf")


class LabelSheetApi(APIView):
    class InputSerializer(serializers.Serializer):
        batches = serializers.ListField(child=serializers.CharField(max_length=20), min_length=1, max_length=200)
        size_mm = serializers.ChoiceField([100, 150, 200], required=False)

    @extend_schema(request=InputSerializer, responses={(200, "application/pdf"): OpenApiTypes.BINARY})
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        batches = batch_list_by_codes(user=request.user, codes=data.validated_data["batches"])
        pdf = label_sheet_pdf([label_data(b) for b in batches], size_mm=data.validated_data.get("size_mm"))
        return _binary(pdf, "application/pdf", "labels.pdf")


class ConsolidateApi(APIView):
    class InputSerializer(serializers.Serializer):
        batches = serializers.ListField(child=serializers.CharField(max_length=20), min_length=2, max_length=500)
        site = serializers.IntegerField(min_value=1)
        waste_code = serializers.CharField(max_length=20, required=False)
        event_time = serializers.DateTimeField(required=False)

    @extend_schema(request=InputSerializer, responses={201: BatchOutput})
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        site = site_or_error(values.pop("site"))
        child = services.batch_consolidate(user=request.user, codes=values.pop("batches"), site=site, **values)
        return Response(BatchOutput(child).data, status=201)


class SplitApi(APIView):
    class InputSerializer(serializers.Serializer):
        parts = serializers.ListField(
            child=serializers.DecimalField(max_digits=12, decimal_places=3), min_length=2, max_length=100
        )
        event_time = serializers.DateTimeField(required=False)

    @extend_schema(request=InputSerializer, responses={201: BatchOutput(many=True)})
    def post(self, request, code: str):
        batch_visible(request, code)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        children = services.batch_split(
            user=request.user,
            code=code,
            quantities=data.validated_data["parts"],
            event_time=data.validated_data.get("event_time"),
        )
        return Response(BatchOutput(children, many=True).data, status=201)


class TreatApi(APIView):
    class InputSerializer(serializers.Serializer):
        operation = serializers.CharField(max_length=4)
        quantity_kg = serializers.DecimalField(max_digits=12, decimal_places=3, required=False)
        event_time = serializers.DateTimeField(required=False)

    @extend_schema(request=InputSerializer, responses={200: BatchOutput})
    def post(self, request, code: str):
        batch_visible(request, code)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        batch, _entry = services.batch_treat(user=request.user, code=code, **data.validated_data)
        return Response(BatchOutput(batch).data)


def public_trace_page(request, code: str):
    """What a roadside inspector may see from the QR code: no personal data."""
    from django.shortcuts import render

    canonical = batch_code_normalise(code)
    batch = None
    if batch_code_valid(canonical):
        batch = Batch.objects.select_related("waste", "organisation", "origin_site").filter(code=canonical).first()
    if batch is None:
        return render(request, "waste/public_trace.html", {"code": code}, status=404)
    last = batch_events(batch).last()
    return render(
        request,
        "waste/public_trace.html",
        {
            "batch": batch,
            "last": last,
            "public_base": settings.PUBLIC_BASE_URL,
        },
    )
