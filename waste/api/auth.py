"""Token auth: hashed, expiring, revocable tokens (django-rest-knox); failed logins locked out (axes)."""

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


class LoginThrottle(AnonRateThrottle):
    scope = "login"


class TokenCreateApi(APIView):
    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = [LoginThrottle]

    class InputSerializer(serializers.Serializer):
        username = serializers.CharField(max_length=150)
        password = serializers.CharField(max_length=128, trim_whitespace=False)

    class OutputSerializer(serializers.Serializer):
        token = serializers.CharField()
        expiry = serializers.DateTimeField()

    @extend_schema(request=InputSerializer, responses={200: OutputSerializer})
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            user = authenticate(request._request, **data.validated_data)
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
        instance, token = AuthToken.objects.create(user=user)
        return Response(self.OutputSerializer({"token": token, "expiry": instance.expiry}).data)


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
