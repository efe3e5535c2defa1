from csp.decorators import csp_exempt
from django.contrib import admin
from django.urls import include, path
from django.views.i18n import JavaScriptCatalog
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from waste.api.batches import public_trace_page
from web.views.roadside import roadside_page, roadside_pdf

# The framed error pages of the web interface (web/errors.py also renders them with DEBUG on).
handler403 = "web.errors.permission_denied"
handler404 = "web.errors.page_not_found"
handler500 = "web.errors.server_error"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # Swagger UI starts itself with an inline script: outside the CSP.
    path("api/docs/", csp_exempt()(SpectacularSwaggerView.as_view(url_name="schema")), name="docs"),
    path("api/v1/", include("waste.api.urls")),
    path("api/v1/", include("logistics.api.urls")),
    path("api/v1/", include("emergency.urls")),
    path("api/v1/recycling/", include("recycling.urls")),
    # The public QR page keeps its styles inline (it must read well without the app's static files).
    path("t/<str:code>", csp_exempt()(public_trace_page), name="public-trace"),
    # Roadside control behind a load's QR: a signed link, valid 30 minutes, no login.
    path("r/<str:token>/", roadside_page, name="roadside"),
    path("r/<str:token>/manifest.pdf", roadside_pdf, name="roadside-pdf"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("jsi18n/", JavaScriptCatalog.as_view(packages=["web"]), name="javascript-catalog"),
    path("", include("web.urls")),
]
