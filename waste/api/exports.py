"""Ledger exports: request (202 + job), status with an expiring download link, download."""

from __future__ import annotations

from django.conf import settings
from django.http import FileResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from waste.errors import NotFound
from waste.models import ExportFormat, ExportKind, Organisation
from waste.selectors.exports import export_get
from waste.services import exports as services


class ExportOutput(serializers.Serializer):
    id = serializers.UUIDField()
    kind = serializers.CharField()
    format = serializers.CharField()
    organisation = serializers.IntegerField(source="organisation_id", allow_null=True)
    date_from = serializers.DateField()
    date_to = serializers.DateField()
    status = serializers.CharField()
    progress = serializers.IntegerField()
    rows = serializers.IntegerField()
    sha256 = serializers.CharField()
    error = serializers.CharField()
    created_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField()
    download_url = serializers.SerializerMethodField()
    link_expires_in = serializers.SerializerMethodField()

    def get_download_url(self, job) -> str | None:
        if job.status != "done":
            return None
        token = services.export_link_token(job=job)
        url = reverse("export-download", kwargs={"pk": job.pk}) + f"?token={token}"
        return self.context["request"].build_absolute_uri(url)

    def get_link_expires_in(self, job) -> int | None:
        return services.LINK_MAX_AGE if job.status == "done" else None


class ExportCreateApi(APIView):
    class InputSerializer(serializers.Serializer):
        kind = serializers.ChoiceField(ExportKind.choices)
        format = serializers.ChoiceField(ExportFormat.choices)
        date_from = serializers.DateField()
        date_to = serializers.DateField()
        organisation = serializers.IntegerField(min_value=1, required=False, allow_null=True)

        def to_internal_value(self, data):
            if hasattr(data, "copy"):
                data = data.copy()
                for name, field in (("from", "date_from"), ("to", "date_to")):
                    if name in data:
                        data[field] = data.pop(name)
            return super().to_internal_value(data)

    @extend_schema(
        request=InputSerializer,
        responses={202: ExportOutput},
        description='Body: {"kind", "format", "from", "to", "organisation"?}.',
    )
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        if not data.is_valid():
            from rest_framework.exceptions import ValidationError

            names = {"date_from": "from", "date_to": "to"}
            errors = {names.get(k, k): v for k, v in data.errors.items()}
            raise ValidationError(errors)
        values = dict(data.validated_data)
        organisation = None
        if values.get("organisation"):
            organisation = Organisation.objects.filter(pk=values["organisation"]).first()
            if organisation is None:
                raise NotFound.field("organisation", _("No such organisation."), code="unknown_organisation")
        job = services.export_request(
            user=request.user,
            kind=values["kind"],
            format=values["format"],
            date_from=values["date_from"],
            date_to=values["date_to"],
            organisation=organisation,
        )
        return Response(ExportOutput(job, context={"request": request}).data, status=202)


class ExportDetailApi(APIView):
    @extend_schema(responses=ExportOutput)
    def get(self, request, pk):
        job = export_get(user=request.user, export_id=pk)
        return Response(ExportOutput(job, context={"request": request}).data)


class ExportDownloadApi(APIView):
    @extend_schema(parameters=[OpenApiParameter("token", str, required=True)], responses={200: OpenApiTypes.BINARY})
    def get(self, request, pk):
        job = export_get(user=request.user, export_id=pk)
        services.export_link_check(job=job, token=request.query_params.get("token", ""))
        path = settings.MEDIA_ROOT / job.file
        if not path.exists():
            raise NotFound(_("The export's file is gone."), code="gone", status=410)
        name = f"zerowaste-{job.kind}-{job.date_from}-{job.date_to}.{path.suffix.lstrip('.')}"
        response = FileResponse(open(path, "rb"), as_attachment=True, filename=name)  # noqa: SIM115
        response["X-Content-SHA256"] = job.sha256
        return response
