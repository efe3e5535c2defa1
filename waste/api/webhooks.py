"""Webhooks of an organisation: register (the secret is shown once), list, and their deliveries."""

from __future__ import annotations

import secrets

from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers
from rest_framework.response import Response

from waste.alerts.notify import ALERT_EVENT
from waste.errors import AppError
from waste.models import AlertRule, Organisation, Webhook, WebhookDelivery
from waste.permissions import membership_require
from waste.scoping import visible_to

EVENTS = [ALERT_EVENT, *AlertRule.values]


class WebhookOutput(serializers.ModelSerializer):
    class Meta:
        model = Webhook
        fields = [
            "id",
            "organisation",
            "url",
            "events",
            "active",
            "consecutive_failures",
            "disabled_reason",
            "created_at",
        ]


class DeliveryOutput(serializers.ModelSerializer):
    class Meta:
        model = WebhookDelivery
        fields = [
            "id",
            "event",
            "payload",
            "status",
            "attempts",
            "next_attempt_at",
            "last_error",
            "created_at",
            "delivered_at",
        ]


class WebhookListCreateApi(generics.ListAPIView):
    serializer_class = WebhookOutput

    class InputSerializer(serializers.Serializer):
        organisation = serializers.IntegerField(min_value=1)
        url = serializers.URLField(max_length=500)
        secret = serializers.CharField(min_length=16, max_length=100, required=False)
        events = serializers.ListField(child=serializers.ChoiceField(EVENTS), required=False, max_length=20)

    def get_queryset(self):
        return visible_to(Webhook.objects.all(), self.request.user).order_by("id")

    @extend_schema(request=InputSerializer, responses={201: WebhookOutput})
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        org = Organisation.objects.filter(pk=values["organisation"]).first()
        if org is None:
            raise AppError.field("organisation", _("No such organisation."), code="unknown_organisation")
        membership_require(user=request.user, organisation=org, admin=True)
        secret = values.get("secret") or secrets.token_urlsafe(32)
        hook = Webhook.objects.create(
            organisation=org, url=values["url"], secret=secret, events=sorted(set(values.get("events", [])))
        )
        # The secret is returned once, at creation; it is the receiver's key for X-Signature.
        return Response({**WebhookOutput(hook).data, "secret": secret}, status=201)


class WebhookDeliveryListApi(generics.ListAPIView):
    serializer_class = DeliveryOutput

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return WebhookDelivery.objects.none()
        hook = get_object_or_404(visible_to(Webhook.objects.all(), self.request.user), pk=self.kwargs["pk"])
        return hook.deliveries.order_by("-created_at", "-id")
