"""The API's token authentication (named in REST_FRAMEWORK settings; kept apart from the views it serves,
which DRF imports only after loading this class)."""

from __future__ import annotations

from drf_spectacular.contrib.knox_auth_token import KnoxTokenScheme
from knox.auth import TokenAuthentication

from waste.services.devices import device_touch


class DeviceTokenAuthentication(TokenAuthentication):
    """Knox's Bearer tokens, noting when each device was last used (for the devices page)."""

    def validate_user(self, auth_token):
        answer = super().validate_user(auth_token)
        device_touch(token=auth_token)
        return answer


class DeviceTokenScheme(KnoxTokenScheme):
    """The OpenAPI security scheme of the class above: knox's own."""

    target_class = "waste.api.authentication.DeviceTokenAuthentication"
