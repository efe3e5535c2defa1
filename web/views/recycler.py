"""Offers and matches (placeholder of the frame: the recycler area replaces this module)."""

from django.shortcuts import render
from django.urls import path
from django.utils.translation import gettext_lazy as _

from waste.models import Role
from web.acting import role_required


@role_required(Role.RECYCLER)
def home(request):
    return render(request, "web/frame/placeholder.html", {"title": _("Offers and matches")})


urlpatterns = [
    path("recycler/", home, name="recycler-home"),
]
