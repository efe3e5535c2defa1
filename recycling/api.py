"""Recycling API: treatments, mass balance, capacities, matches, offers and claims."""

from __future__ import annotations

from decimal import Decimal

from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from recycling import selectors, services
from recycling.models import BatchOffer, Claim, OfferStatus, OutputKind, RecyclerCapacity, TreatmentRecord
from waste.api.filters import IsoDateTimeFilter
from waste.api.lookups import row_or_error
from waste.errors import AppError, NotFound
from waste.models import Site
from waste.scoping import visible_to

QUANTITY = {"max_digits": 12, "decimal_places": 3}


def _site_visible(request, site_id: int, field: str = "site") -> Site:
    return row_or_error(
        visible_to(Site.objects.select_related("organisation"), request.user),
        site_id,
        field,
        message=_("No such site."),
        code="unknown_site",
        status=404,
    )


# --- Treatments ---------------------------------------------------------------------------------


class TreatmentOutputOutput(serializers.Serializer):
    kind = serializers.CharField()
    material = serializers.CharField()
    grade = serializers.CharField()
    quantity_kg = serializers.DecimalField(**QUANTITY)
    batch = serializers.CharField(source="batch.code")
    waste_code = serializers.CharField(source="batch.waste.display_code")


class TreatmentOutput(serializers.ModelSerializer):
    batch = serializers.CharField(source="batch.code")
    site = serializers.SerializerMethodField()
    event = serializers.SerializerMethodField()
    outputs = TreatmentOutputOutput(many=True)

    class Meta:
        model = TreatmentRecord
        fields = [
            "id",
            "batch",
            "site",
            "operation",
            "final",
            "quantity_kg",
            "losses_kg",
            "treated_at",
            "outputs",
            "event",
            "created_at",
        ]

    def get_site(self, record) -> dict:
        return {"id": record.site_id, "name": record.site.name}

    def get_event(self, record) -> dict:
        return {
            "id": record.event_id,
            "event_id": str(record.event.event_id),
            "hash": record.event.hash,
            "flags": [f for f in record.event.flags.split(",") if f],
        }


class TreatmentFilter(filters.FilterSet):
    site = filters.NumberFilter()
    batch = filters.CharFilter(field_name="batch__code")
    operation = filters.CharFilter(lookup_expr="iexact")
    final = filters.BooleanFilter()
    treated_after = IsoDateTimeFilter(field_name="treated_at", lookup_expr="gte")
    treated_before = IsoDateTimeFilter(field_name="treated_at", lookup_expr="lt")

    class Meta:
        model = TreatmentRecord
        fields = ["site", "batch", "operation", "final", "treated_after", "treated_before"]


class TreatmentListCreateApi(generics.ListAPIView):
    serializer_class = TreatmentOutput
    filterset_class = TreatmentFilter

    class InputSerializer(serializers.Serializer):
        class OutputInput(serializers.Serializer):
            kind = serializers.ChoiceField(OutputKind.choices)
            material = serializers.CharField(max_length=100)
            grade = serializers.CharField(max_length=40, required=False, default="", allow_blank=True)
            quantity_kg = serializers.DecimalField(**QUANTITY)
            waste_code = serializers.CharField(max_length=20, required=False, allow_blank=True)

        batch = serializers.CharField(max_length=20)
        operation = serializers.CharField(max_length=4)
        quantity_kg = serializers.DecimalField(**QUANTITY)
        treated_at = serializers.DateTimeField(required=False)
        losses_kg = serializers.DecimalField(**QUANTITY, required=False)
        outputs = OutputInput(many=True, required=False, max_length=50)

    def get_queryset(self):
        return selectors.treatment_list(user=self.request.user)

    @extend_schema(request=InputSerializer, responses={201: TreatmentOutput})
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        outputs = [services.Output(**o) for o in values.pop("outputs", [])]
        record = services.treatment_record(
            user=request.user,
            code=values.pop("batch"),
            outputs=outputs,
            losses_kg=values.pop("losses_kg", None) or Decimal(0),
            **values,
        )
        record = selectors.treatment_list(user=request.user).get(pk=record.pk)
        return Response(TreatmentOutput(record).data, status=201)


class TreatmentDetailApi(APIView):
    @extend_schema(responses=TreatmentOutput)
    def get(self, request, pk: int):
        return Response(TreatmentOutput(get_object_or_404(selectors.treatment_list(user=request.user), pk=pk)).data)


# --- Mass balance -------------------------------------------------------------------------------


class MassBalanceApi(APIView):
    class InputSerializer(serializers.Serializer):
        site = serializers.IntegerField(min_value=1)
        date_from = serializers.DateField()
        date_to = serializers.DateField()

        def validate(self, attrs):
            if attrs["date_to"] < attrs["date_from"]:
                raise serializers.ValidationError({"to": [_("Is before from.")]})
            if (attrs["date_to"] - attrs["date_from"]).days > 3 * 366:
                raise serializers.ValidationError({"to": [_("A mass balance covers at most three years.")]})
            return attrs

    @extend_schema(
        parameters=[
            OpenApiParameter("site", int, required=True),
            OpenApiParameter("from", OpenApiTypes.DATE, required=True),
            OpenApiParameter("to", OpenApiTypes.DATE, required=True),
        ],
        responses=OpenApiTypes.OBJECT,
    )
    def get(self, request):
        unknown = sorted(set(request.query_params) - {"site", "from", "to", "format"})
        if unknown:
            raise AppError(_("Unknown query parameters."), fields={k: [_("Unknown query parameter.")] for k in unknown})
        params = {
            "site": request.query_params.get("site"),
            "date_from": request.query_params.get("from"),
            "date_to": request.query_params.get("to"),
        }
        data = self.InputSerializer(data={k: v for k, v in params.items() if v is not None})
        if not data.is_valid():
            fields = {
                {"date_from": "from", "date_to": "to"}.get(k, k): [str(m) for m in v] for k, v in data.errors.items()
            }
            raise AppError(next(f"{k}: {v[0]}" for k, v in fields.items()), fields=fields)
        site = _site_visible(request, data.validated_data["site"])
        balance = selectors.mass_balance(site, data.validated_data["date_from"], data.validated_data["date_to"])
        return Response(balance.as_dict())


# --- Capacities ---------------------------------------------------------------------------------


class CapacityOutput(serializers.ModelSerializer):
    remaining_kg = serializers.SerializerMethodField()
    site_name = serializers.CharField(source="site.name")

    class Meta:
        model = RecyclerCapacity
        fields = [
            "id",
            "organisation",
            "site",
            "site_name",
            "codes",
            "period_start",
            "period_end",
            "capacity_kg",
            "booked_kg",
            "remaining_kg",
            "price_per_t",
            "active",
        ]

    def get_remaining_kg(self, capacity) -> str:
        return str(capacity.capacity_kg - capacity.booked_kg)


class CapacityFilter(filters.FilterSet):
    site = filters.NumberFilter()
    organisation = filters.NumberFilter()
    active = filters.BooleanFilter()
    on = filters.DateFilter(method="filter_on", help_text="capacities whose period includes this day")

    class Meta:
        model = RecyclerCapacity
        fields = ["site", "organisation", "active", "on"]

    def filter_on(self, queryset, name, value):
        return queryset.filter(period_start__lte=value, period_end__gte=value)


class CapacityListCreateApi(generics.ListAPIView):
    serializer_class = CapacityOutput
    filterset_class = CapacityFilter

    class InputSerializer(serializers.Serializer):
        site = serializers.IntegerField(min_value=1)
        codes = serializers.ListField(child=serializers.CharField(max_length=20), min_length=1, max_length=200)
        period_start = serializers.DateField()
        period_end = serializers.DateField()
        capacity_kg = serializers.DecimalField(max_digits=16, decimal_places=3)
        price_per_t = serializers.DecimalField(max_digits=10, decimal_places=2, required=False, default=0)

    def get_queryset(self):
        return selectors.capacity_list(user=self.request.user).order_by("-period_end", "id")

    @extend_schema(request=InputSerializer, responses={201: CapacityOutput})
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        site = Site.objects.select_related("organisation").filter(pk=values.pop("site")).first()
        if site is None:
            raise NotFound.field("site", _("No such site."), code="unknown_site")
        capacity = services.capacity_create(user=request.user, site=site, **values)
        return Response(CapacityOutput(capacity).data, status=201)


# --- Matches, offers, claims --------------------------------------------------------------------


class MatchesApi(APIView):
    @extend_schema(parameters=[OpenApiParameter("batch", str, required=True)], responses=OpenApiTypes.OBJECT)
    def get(self, request):
        unknown = sorted(set(request.query_params) - {"batch", "format"})
        if unknown:
            raise AppError(_("Unknown query parameters."), fields={k: [_("Unknown query parameter.")] for k in unknown})
        code = request.query_params.get("batch")
        if not code:
            raise AppError.field("batch", _("Name the batch: ?batch=<code>."), code="required")
        batch = services.batch_visible_get(user=request.user, code=code)
        return Response(selectors.matches_for(batch=batch))


class ClaimOutput(serializers.ModelSerializer):
    organisation = serializers.IntegerField(source="capacity.organisation_id")

    class Meta:
        model = Claim
        fields = ["id", "capacity", "organisation", "quantity_kg", "created_at"]


class OfferOutput(serializers.ModelSerializer):
    batch = serializers.CharField(source="batch.code")
    waste_code = serializers.CharField(source="batch.waste.display_code")
    quantity_kg = serializers.SerializerMethodField()
    claim = serializers.SerializerMethodField()

    class Meta:
        model = BatchOffer
        fields = ["id", "batch", "waste_code", "quantity_kg", "organisation", "status", "created_at", "claim"]

    def get_quantity_kg(self, offer) -> str:
        return str(services.batch_weight(offer.batch))

    def get_claim(self, offer) -> dict | None:
        claims = list(offer.claims.all())
        return ClaimOutput(claims[0]).data if claims else None


class OfferFilter(filters.FilterSet):
    status = filters.MultipleChoiceFilter(choices=OfferStatus.choices)
    batch = filters.CharFilter(field_name="batch__code")

    class Meta:
        model = BatchOffer
        fields = ["status", "batch"]


class OfferListCreateApi(generics.ListAPIView):
    serializer_class = OfferOutput
    filterset_class = OfferFilter

    class InputSerializer(serializers.Serializer):
        batch = serializers.CharField(max_length=20)

    def get_queryset(self):
        return selectors.offer_list(user=self.request.user).order_by("-created_at", "-id")

    @extend_schema(request=InputSerializer, responses={201: OfferOutput})
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        offer = services.offer_create(user=request.user, code=data.validated_data["batch"])
        return Response(OfferOutput(offer).data, status=201)


class OfferDetailApi(APIView):
    @extend_schema(responses=OfferOutput)
    def get(self, request, pk: int):
        return Response(OfferOutput(get_object_or_404(selectors.offer_list(user=request.user), pk=pk)).data)


class OfferClaimApi(APIView):
    class InputSerializer(serializers.Serializer):
        capacity = serializers.IntegerField(min_value=1)

    @extend_schema(request=InputSerializer, responses={201: OfferOutput})
    def post(self, request, pk: int):
        if not selectors.offer_addressable(user=request.user, pk=pk):
            raise NotFound.field("offer", _("No such offer."), code="unknown_offer")
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        claim = services.offer_claim(user=request.user, offer_id=pk, capacity_id=data.validated_data["capacity"])
        offer = selectors.offer_list(user=request.user).get(pk=claim.offer_id)
        return Response(OfferOutput(offer).data, status=201)
