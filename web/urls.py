"""URLs of the pages (namespace "web"): each area module owns its ``urlpatterns``."""

from web.views import command, devices, dispatch, enterprise, frame, phone, recycler, regulator, site

app_name = "web"

urlpatterns = [
    *frame.urlpatterns,
    *enterprise.urlpatterns,
    *site.urlpatterns,
    *recycler.urlpatterns,
    *dispatch.urlpatterns,
    *regulator.urlpatterns,
    *devices.urlpatterns,
    *phone.urlpatterns,
    *command.urlpatterns,
]
