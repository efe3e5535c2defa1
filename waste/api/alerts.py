"""Early-warning alerts: list (the organisation's own and the regulator's jurisdiction), acknowledge, resolve."""

from __future__ import annotations

from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from waste.alerts import services
from waste.models import Alert, AlertRule, AlertStatus
from waste.scoping import visible_to
from waste.selectors.alerts import alert_get_for_change


class AlertOutput(serializers.ModelSerializer):
    # Stored as a msgid and parameters: rendered here in the language of the request.
    title = serializers.CharField(source="get_rule_display", read_only=True)
    message = serializers.CharField(source="text", read_only=True)
    batch = serializers.SlugRelatedField(slug_field="code", read_only=True)
    manifest = serializers.SlugRelatedField(slug_field="number", read_only=True)

    class Meta:
        model = Alert
        fields = [
            "id",
            "rule",
            "title",
            "cause",
            "severity",
            "message",
            "params",
            "status",
            "organisation",
            "site",
            "batch",
            "manifest",
            "data",
            "raised_at",
            "acknowledged_at",
            "acknowledged_by",
            "resolved_at",
            "resolved_by",
        ]


class AlertFilter(filters.FilterSet):
    status = filters.MultipleChoiceFilter(choices=AlertStatus.choices)
    rule = filters.MultipleChoiceFilter(choices=AlertRule.choices)
    organisation = filters.NumberFilter()
    site = filters.NumberFilter()

    class Meta:
        model = Alert
        fields = ["status", "rule", "organisation", "site"]


class AlertListApi(generics.ListAPIView):
    serializer_class = AlertOutput
    filterset_class = AlertFilter

    def get_queryset(self):
        return visible_to(Alert.objects.select_related("batch", "manifest"), self.request.user)


def _alert_for_change(request, pk: int) -> Alert:
    return alert_get_for_change(user=request.user, alert_id=pk)


class AlertAcknowledgeApi(APIView):
    @extend_schema(request=None, responses=AlertOutput)
    def post(self, request, pk: int):
        alert = services.alert_acknowledge(alert=_alert_for_change(request, pk), user=request.user)
        return Response(AlertOutput(alert).data)


class AlertResolveApi(APIView):
    @extend_schema(request=None, responses=AlertOutput)
    def post(self, request, pk: int):
        alert = services.alert_resolve(alert=_alert_for_change(request, pk), user=request.user)
        return Response(AlertOutput(alert).data)
