"""Regulator reports: zero-waste-city indicators as JSON and as a PDF with charts and a map."""

from __future__ import annotations

import datetime

from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from waste import indicators
from waste.errors import AppError

MAX_DAYS = 366 * 10
PARAMS = [
    OpenApiParameter("from", str, description="first day (YYYY-MM-DD); default 1 January of this year"),
    OpenApiParameter("to", str, description="last day (YYYY-MM-DD); default today"),
    OpenApiParameter("district", str, description="GB/T 2260 code of a district you hold"),
    OpenApiParameter("organisation", int, description="an enterprise in your scope"),
    OpenApiParameter("code", str, description="a waste code or category (900-249-08, HW08, SW17, HH-R)"),
    OpenApiParameter("group", str, enum=["district", "organisation", "code"], description="break down by"),
]


class IndicatorQuery(serializers.Serializer):
    date_from = serializers.DateField(required=False)
    date_to = serializers.DateField(required=False)
    district = serializers.CharField(required=False, max_length=6, min_length=6)
    organisation = serializers.IntegerField(required=False, min_value=1)
    code = serializers.CharField(required=False, max_length=40)
    group = serializers.ChoiceField(["district", "organisation", "code"], required=False)

    def to_internal_value(self, data):
        data = {("date_" + k if k in ("from", "to") else k): v for k, v in data.items()}
        unknown = sorted(set(data) - set(self.fields) - {"format"})
        if unknown:
            raise serializers.ValidationError(
                {k.removeprefix("date_"): [_("Unknown query parameter.")] for k in unknown}
            )
        try:
            return super().to_internal_value(data)
        except serializers.ValidationError as exc:
            raise serializers.ValidationError({k.removeprefix("date_"): v for k, v in exc.detail.items()}) from exc

    def validate(self, attrs):
        today = timezone.localdate()
        attrs.setdefault("date_from", datetime.date(today.year, 1, 1))
        attrs.setdefault("date_to", today)
        if attrs["date_from"] > attrs["date_to"]:
            raise serializers.ValidationError({"from": [_("Must not be after 'to'.")]})
        if (attrs["date_to"] - attrs["date_from"]).days > MAX_DAYS:
            raise serializers.ValidationError({"to": [_("A report covers at most ten years.")]})
        return attrs


def indicators_for(request) -> dict:
    query = IndicatorQuery(data=request.query_params.dict())
    query.is_valid(raise_exception=True)
    values = query.validated_data
    scope = indicators.indicator_scope(
        user=request.user,
        district=values.get("district"),
        organisation=values.get("organisation"),
        code=values.get("code"),
    )
    result = indicators.indicators_compute(
        scope=scope, date_from=values["date_from"], date_to=values["date_to"], group=values.get("group", "")
    )
    result["filters"] = {k: values.get(k) for k in ("district", "organisation", "code")}
    return result, scope, values


class IndicatorsApi(APIView):
    @extend_schema(parameters=PARAMS, responses={200: dict})
    def get(self, request):
        result, _scope, _user = indicators_for(request)
        return Response(result)


class IndicatorsPdfApi(APIView):
    @extend_schema(parameters=PARAMS, responses={(200, "application/pdf"): bytes})
    def get(self, request):
        from waste.documents.report import indicator_report_pdf

        result, scope, values = indicators_for(request)
        try:
            pdf = indicator_report_pdf(result=result, scope=scope, user=request.user)
        except ValueError as exc:  # nothing drawable
            raise AppError(str(exc)) from exc
        name = f"indicators-{values['date_from']}-{values['date_to']}.pdf"
        response = HttpResponse(pdf, content_type="application/pdf")
        response["Content-Disposition"] = f'inline; filename="{name}"'
        return response
