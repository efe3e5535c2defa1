from django.urls import path

from waste.api import auth, catalogs, parties, sites

urlpatterns = [
    path("auth/token/", auth.TokenCreateApi.as_view(), name="auth-token"),
    path("auth/token/revoke/", auth.TokenRevokeApi.as_view(), name="auth-token-revoke"),
    path("auth/token/revoke-all/", auth.TokenRevokeAllApi.as_view(), name="auth-token-revoke-all"),
    path("me/", auth.MeApi.as_view(), name="me"),
    path("organisations/", parties.OrganisationListCreateApi.as_view(), name="organisation-list"),
    path("organisations/<int:pk>/", parties.OrganisationDetailApi.as_view(), name="organisation-detail"),
    path("organisations/<int:pk>/members/", parties.MembershipListCreateApi.as_view(), name="membership-list"),
    path("organisations/<int:pk>/pin/", parties.PinSetApi.as_view(), name="membership-pin"),
    path("jurisdictions/", parties.JurisdictionListCreateApi.as_view(), name="jurisdiction-list"),
    path("sites/", sites.SiteListCreateApi.as_view(), name="site-list"),
    path("sites/<int:pk>/", sites.SiteDetailApi.as_view(), name="site-detail"),
    path("sites/<int:pk>/permits/", sites.PermitListCreateApi.as_view(), name="permit-list"),
    path("catalogs/", catalogs.CatalogListApi.as_view(), name="catalog-list"),
    path("catalogs/entries/", catalogs.CatalogEntryListApi.as_view(), name="catalog-entry-list"),
    path("waste-codes/<str:code>/", catalogs.WasteCodeLookupApi.as_view(), name="waste-code-lookup"),
]
