"""URLs of the pages (namespace "web"): each area module owns its ``urlpatterns``."""

from web.views import command, dispatch, enterprise, frame, recycler, regulator, site

app_name = "web"

urlpatterns = [
    *frame.urlpatterns,
    *enterprise.urlpatterns,
    *site.urlpatterns,
    *recycler.urlpatterns,
    *dispatch.urlpatterns,
    *regulator.urlpatterns,
    *command.urlpatterns,
]
