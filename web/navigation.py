"""The role navigation in the page header: (role, URL name, label). Each area adds its own lines."""

from django.utils.translation import gettext_lazy as _

from waste.models import Role

NAVIGATION = [
    (Role.GENERATOR, "web:enterprise-batches", _("Batches")),
    (Role.GENERATOR, "web:enterprise-manifests", _("Manifests")),
    (Role.GENERATOR, "web:enterprise-ledger", _("Ledger")),
    (Role.SITE_OPERATOR, "web:site-incoming", _("Site operations")),
    (Role.RECYCLER, "web:recycler-home", _("Offers and matches")),
    (Role.HAULER, "web:dispatch-home", _("Pickups and plans")),
    (Role.HAULER, "web:command-home", _("Emergency command")),
    (Role.REGULATOR, "web:regulator-dashboard", _("Dashboard")),
    (Role.REGULATOR, "web:regulator-alerts", _("Alerts")),
    (Role.REGULATOR, "web:command-home", _("Emergency command")),
    (Role.REGULATOR, "web:regulator-indicators", _("Indicators")),
    (Role.REGULATOR, "web:regulator-search", _("Search")),
    (Role.REGULATOR, "web:regulator-exports", _("Exports")),
    (Role.REGULATOR, "web:regulator-verify", _("Verify")),
]
