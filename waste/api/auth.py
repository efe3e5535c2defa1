"""Token auth: hashed, expiring, revocable tokens (django-rest-knox); failed logins locked out (axes).

Each token names the device it was issued to (waste.models.Device), listed on the web devices page
where the user revokes it. Lifetime: REST_KNOX TOKEN_TTL (30 days) sliding with AUTO_REFRESH, so a
driver's phone in daily use stays signed in, and one left unused for 30 days must sign in again."""

from __future__ import annotations

from axes.exceptions import AxesBackendPermissionDenied
from django.contrib.auth import authenticate
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, inline_serializer
from knox.models import AuthToken
from rest_framework import serializers
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.throttling import AnonRateThrottle
from rest_framework.views import APIView

from waste.errors import AppError
from waste.selectors.parties import user_memberships
from waste.services.devices import device_sign_in


class LoginThrottle(AnonRateThrottle):
    scope = "login"


class TokenCreateApi(APIView):
    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = [LoginThrottle]

    class InputSerializer(serializers.Serializer):
        username = serializers.CharField(max_length=150)
        password = serializers.CharField(max_length=128, trim_whitespace=False)
        device_name = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")

    class OutputSerializer(serializers.Serializer):
        token = serializers.CharField()
        expiry = serializers.DateTimeField()

    @extend_schema(request=InputSerializer, responses={200: OutputSerializer})
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        credentials = {k: data.validated_data[k] for k in ("username", "password")}
        try:
            user = authenticate(request._request, **credentials)
        except AxesBackendPermissionDenied:
            locked_out = True
        else:
            locked_out = getattr(request._request, "axes_locked_out", False)
        if locked_out:
            # This view answers the lockout in the API's error shape; without clearing the flag
            # AxesMiddleware would replace that answer with its own HTML page.
            request._request.axes_locked_out = False
            raise AppError(_("Too many failed logins; try again later."), code="locked_out", status=429)
        if user is None or not user.is_active:
            raise AppError(_("Wrong username or password."), code="invalid_credentials", status=401)
        device, token = device_sign_in(
            user=user,
            name=data.validated_data["device_name"],
            user_agent=request.headers.get("User-Agent", ""),
        )
        return Response(self.OutputSerializer({"token": token, "expiry": device.token.expiry}).data)


class TokenRevokeApi(APIView):
    """Revokes the token used for this request."""

    permission_classes = [IsAuthenticated]

    @extend_schema(request=None, responses={204: None})
    def post(self, request):
        if isinstance(request.auth, AuthToken):
            request.auth.delete()
        return Response(status=204)


class TokenRevokeAllApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(request=None, responses={204: None})
    def post(self, request):
        request.user.auth_token_set.all().delete()
        return Response(status=204)


class MeApi(APIView):
    @extend_schema(
        responses=inline_serializer(
            "Me",
            {
                "id": serializers.IntegerField(),
                "username": serializers.CharField(),
                "organisations": inline_serializer(
                    "MeOrganisation",
                    {
                        "id": serializers.IntegerField(),
                        "name": serializers.CharField(),
                        "roles": serializers.ListField(child=serializers.CharField()),
                        "member_role": serializers.CharField(),
                    },
                    many=True,
                ),
            },
        )
    )
    def get(self, request):
        orgs = [
            {"id": m.organisation.id, "name": m.organisation.name, "roles": m.organisation.roles, "member_role": m.role}
            for m in user_memberships(user=request.user)
        ]
        return Response({"id": request.user.id, "username": request.user.username, "organisations": orgs})
