"""The user's signed-in devices (the drivers' phones and other API clients), each revocable."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from waste.selectors.devices import devices_for_user
from waste.services.devices import device_revoke


@login_required
def device_list(request):
    return render(
        request,
        "web/frame/devices.html",
        {"title": _("Signed-in devices"), "devices": devices_for_user(user=request.user)},
    )


@require_POST
@login_required
def device_revoke_view(request, pk: int):
    device_revoke(user=request.user, device_id=pk)  # NotFound (another user's device) → framed 404
    messages.success(request, _("The device is signed out. It must sign in again to upload."))
    return redirect("web:devices")


urlpatterns = [
    path("account/devices/", device_list, name="devices"),
    path("account/devices/<int:pk>/revoke/", device_revoke_view, name="device-revoke"),
]
