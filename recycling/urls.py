from django.urls import path

from recycling import api

urlpatterns = [
    path("treatments/", api.TreatmentListCreateApi.as_view(), name="treatment-list"),
    path("treatments/<int:pk>/", api.TreatmentDetailApi.as_view(), name="treatment-detail"),
    path("mass-balance/", api.MassBalanceApi.as_view(), name="mass-balance"),
    path("capacities/", api.CapacityListCreateApi.as_view(), name="capacity-list"),
    path("matches/", api.MatchesApi.as_view(), name="matches"),
    path("offers/", api.OfferListCreateApi.as_view(), name="offer-list"),
    path("offers/<int:pk>/", api.OfferDetailApi.as_view(), name="offer-detail"),
    path("offers/<int:pk>/claim/", api.OfferClaimApi.as_view(), name="offer-claim"),
]
