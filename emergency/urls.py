from django.urls import path

from emergency import api

urlpatterns = [
    path("incidents/", api.IncidentListCreateApi.as_view(), name="incident-list"),
    path("incidents/<int:incident_id>/", api.IncidentDetailApi.as_view(), name="incident-detail"),
    path("incidents/<int:incident_id>/actions/", api.IncidentActionApi.as_view(), name="incident-action"),
    path("incidents/<int:incident_id>/notes/", api.IncidentNoteApi.as_view(), name="incident-note"),
    path("incidents/<int:incident_id>/resources/", api.IncidentResourcesApi.as_view(), name="incident-resources"),
    path("incidents/<int:incident_id>/dispatch/", api.IncidentDispatchApi.as_view(), name="incident-dispatch"),
    path(
        "trips/<int:trip_id>/stops/<int:sequence>/incident/", api.IncidentStopApi.as_view(), name="trip-stop-incident"
    ),
]
