"""The API's token authentication (named in REST_FRAMEWORK settings; kept apart from the views it serves,
which DRF imports only after loading this class)."""

from __future__ import annotations

from drf_spectacular.contrib.knox_auth_token import KnoxTokenScheme
from knox.settings import knox_settings

from waste.api.tokens import CachedTokenAuthentication
from waste.services.devices import device_touch


class DeviceTokenAuthentication(CachedTokenAuthentication):
    """Knox's Bearer tokens (answers cached per digest, see waste.api.tokens), noting when each device
    was last used (for the devices page).

    Knox renews a token's expiry on use and writes it at most once per MIN_REFRESH_INTERVAL (60 s);
    the device's "last used" is written with it, so a request costs no extra statement."""

    def renew_token(self, auth_token) -> None:
        before = auth_token.expiry
        super().renew_token(auth_token)
        if (auth_token.expiry - before).total_seconds() > knox_settings.MIN_REFRESH_INTERVAL:
            device_touch(token=auth_token)


class DeviceTokenScheme(KnoxTokenScheme):
    """The OpenAPI security scheme of the class above: knox's own."""

    target_class = "waste.api.authentication.DeviceTokenAuthentication"
