"""Incoming (placeholder of the frame: the site area replaces this module)."""

from django.shortcuts import render
from django.urls import path
from django.utils.translation import gettext_lazy as _

from waste.models import Role
from web.acting import role_required


@role_required(Role.SITE_OPERATOR)
def home(request):
    return render(request, "web/frame/placeholder.html", {"title": _("Incoming")})


urlpatterns = [
    path("site/", home, name="site-incoming"),
]
