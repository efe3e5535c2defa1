from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from waste.api.batches import public_trace_page

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
    path("api/v1/", include("waste.api.urls")),
    path("api/v1/", include("logistics.api.urls")),
    path("api/v1/recycling/", include("recycling.urls")),
    path("t/<str:code>", public_trace_page, name="public-trace"),
]
