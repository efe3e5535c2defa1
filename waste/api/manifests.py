"""Manifests: create, read, sign in turn, correct by new version."""

from __future__ import annotations

from django.utils.translation import gettext as _
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from waste.api.lookups import row_or_error, site_or_error
from waste.models import Manifest, ManifestStatus, Organisation
from waste.selectors.manifests import manifest_list, manifest_pin_signers, manifest_visible_get
from waste.services import manifests as services


class ManifestOutput(serializers.ModelSerializer):
    carriers = serializers.SerializerMethodField()
    lines = serializers.SerializerMethodField()
    overdue = serializers.SerializerMethodField()
    names = serializers.SerializerMethodField()
    pin_signers = serializers.SerializerMethodField()
    status_label = serializers.CharField(source="get_status_display", read_only=True)

    class Meta:
        model = Manifest
        fields = [
            "number",
            "version",
            "status",
            "consignor",
            "from_site",
            "receiver",
            "to_site",
            "carriers",
            "lines",
            "consignor_signed_at",
            "receiver_signed_at",
            "receipt_due",
            "overdue",
            "correction_reason",
            "created_at",
            "names",
            "pin_signers",
            "status_label",
        ]

    def get_carriers(self, manifest) -> list[dict]:
        return [
            {
                "organisation": c.organisation_id,
                "name": c.organisation.name,
                "order": c.order,
                "signed_at": c.signed_at,
                "vehicle_plate": c.vehicle_plate,
                "driver": c.driver.username if c.driver_id else None,
            }
            for c in manifest.carriers.select_related("organisation", "driver").order_by("order")
        ]

    def get_lines(self, manifest) -> list[dict]:
        return [
            {
                "batch": line.batch.code,
                "quantity_kg": str(line.quantity_kg),
                "received_kg": None if line.received_kg is None else str(line.received_kg),
                "refused_kg": None if line.refused_kg is None else str(line.refused_kg),
                "refusal_reason": line.refusal_reason,
                "waste_code": line.batch.waste.display_code,
                "waste_name": line.batch.waste.name,
                "hazardous": line.batch.is_hazardous,
            }
            for line in manifest.lines.select_related("batch__waste").order_by("id")
        ]

    def get_overdue(self, manifest) -> bool:
        return services.manifest_overdue(manifest)

    def get_names(self, manifest) -> dict:
        return {
            "consignor": manifest.consignor.name,
            "from_site": manifest.from_site.name,
            "receiver": manifest.receiver.name,
            "to_site": manifest.to_site.name,
        }

    def get_pin_signers(self, manifest) -> list[dict]:
        """Who may sign for the consignor on a carrier's phone (members with a PIN, not locked), while
        the consignor's part is open; only to the consignor and the manifest's carriers."""
        request = self.context.get("request")
        if not self.context.get("detail") or request is None or manifest.consignor_signed_at is not None:
            return []
        return manifest_pin_signers(user=request.user, manifest=manifest)


class ManifestFilter(filters.FilterSet):
    status = filters.MultipleChoiceFilter(choices=ManifestStatus.choices)
    number = filters.CharFilter()

    class Meta:
        model = Manifest
        fields = ["status", "number"]


class ManifestListCreateApi(generics.ListAPIView):
    serializer_class = ManifestOutput
    filterset_class = ManifestFilter

    class InputSerializer(serializers.Serializer):
        from_site = serializers.IntegerField(min_value=1)
        to_site = serializers.IntegerField(min_value=1)
        carriers = serializers.ListField(child=serializers.IntegerField(min_value=1), min_length=1, max_length=5)
        batches = serializers.ListField(child=serializers.CharField(max_length=20), min_length=1, max_length=500)

    def get_queryset(self):
        return manifest_list(user=self.request.user)

    @extend_schema(request=InputSerializer, responses={201: ManifestOutput})
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        carriers = [
            row_or_error(
                Organisation.objects,
                pk,
                f"carriers.{i}",
                message=_("No such organisation."),
                code="unknown_organisation",
            )
            for i, pk in enumerate(values["carriers"])
        ]
        manifest = services.manifest_create(
            user=request.user,
            from_site=site_or_error(values["from_site"], "from_site"),
            to_site=site_or_error(values["to_site"], "to_site"),
            carriers=carriers,
            batches=values["batches"],
        )
        return Response(ManifestOutput(manifest).data, status=201)


def manifest_visible(request, number: str) -> Manifest:
    return manifest_visible_get(user=request.user, number=number)


class ManifestDetailApi(APIView):
    @extend_schema(responses=ManifestOutput)
    def get(self, request, number: str):
        return Response(
            ManifestOutput(manifest_visible(request, number), context={"request": request, "detail": True}).data
        )


class ManifestVersionsApi(APIView):
    @extend_schema(responses=ManifestOutput(many=True))
    def get(self, request, number: str):
        manifest_visible(request, number)
        versions = Manifest.objects.filter(number=number).order_by("version")
        return Response(ManifestOutput(versions, many=True).data)


class ReceiptLineSerializer(serializers.Serializer):
    batch = serializers.CharField(max_length=20)
    received_kg = serializers.DecimalField(max_digits=12, decimal_places=3, min_value=0, required=False)
    refused_kg = serializers.DecimalField(max_digits=12, decimal_places=3, min_value=0, required=False)
    reason = serializers.CharField(max_length=300, required=False, allow_blank=True)


class ManifestSignApi(APIView):
    class InputSerializer(serializers.Serializer):
        role = serializers.ChoiceField(["consignor", "carrier", "receiver"])
        pin = serializers.RegexField(r"^\d{4,8}$", required=False)
        signer = serializers.CharField(max_length=150, required=False)
        decision = serializers.ChoiceField(["accept", "partial", "refuse"], required=False)
        lines = ReceiptLineSerializer(many=True, required=False, max_length=500)
        vehicle = serializers.CharField(max_length=20, required=False, help_text="the carrier's plate")

        def validate(self, attrs):
            if "vehicle" in attrs and attrs["role"] != "carrier":
                raise serializers.ValidationError({"vehicle": [_("Only a carrier's signature names a vehicle.")]})
            if "pin" in attrs and attrs["role"] != "consignor":
                raise serializers.ValidationError({"pin": [_("Only the consignor signs with a PIN.")]})
            if "pin" in attrs and not attrs.get("signer"):
                raise serializers.ValidationError({"signer": [_("Name the consignor member whose PIN this is.")]})
            if attrs["role"] == "receiver" and "decision" not in attrs:
                raise serializers.ValidationError(
                    {"decision": [_("The receiver accepts, partially accepts or refuses.")]}
                )
            return attrs

    @extend_schema(request=InputSerializer, responses={200: ManifestOutput})
    def post(self, request, number: str):
        manifest_visible(request, number)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        manifest = services.manifest_sign(user=request.user, number=number, **data.validated_data)
        return Response(ManifestOutput(manifest).data)


class ManifestCorrectApi(APIView):
    class InputSerializer(serializers.Serializer):
        reason = serializers.CharField(max_length=300)
        to_site = serializers.IntegerField(min_value=1, required=False)
        quantities = serializers.DictField(
            child=serializers.DecimalField(max_digits=12, decimal_places=3, min_value=0), required=False
        )

    @extend_schema(request=InputSerializer, responses={201: ManifestOutput})
    def post(self, request, number: str):
        manifest_visible(request, number)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        to_site = site_or_error(values.pop("to_site"), "to_site") if "to_site" in values else None
        manifest = services.manifest_correct(user=request.user, number=number, to_site=to_site, **values)
        return Response(ManifestOutput(manifest).data, status=201)
