from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LogisticsConfig(AppConfig):
    name = "logistics"
    verbose_name = _("Logistics")
    default_auto_field = "django.db.models.BigAutoField"

    def seed_demo(self, city) -> None:
        """Called by waste.demo.seed_demo_city: vehicles, drivers, licences and today's open pickups."""
        from logistics.demo import seed_demo

        seed_demo(city)

    def seed_demo_today(self, city) -> None:
        """Called by the seed_demo command: the demo driver's round of today."""
        from logistics.demo import round_today

        round_today(city)

    def seed_demo_fleet(self, city) -> None:
        """Called by waste.demo.seed_demo_city before the city's activity (its manifests need licensed
        carriers); idempotent, so the later ``seed_demo`` call adds nothing twice."""
        from logistics.demo import seed_demo

        seed_demo(city)

    def manifest_carriers_check(self, **kwargs) -> None:
        """Called by waste.services.manifests.manifest_create: a hazardous load needs a licensed carrier."""
        from logistics.services.fleet import carrier_licence_check

        carrier_licence_check(**kwargs)

    def manifest_carrier_vehicle(self, **kwargs):
        """Called by the carrier's signature (waste.services.manifests): the vehicle and driver it names."""
        from logistics.services.fleet import carrier_vehicle_for_signature

        return carrier_vehicle_for_signature(**kwargs)

    def alert_rules(self) -> dict:
        """Ground-control warnings for waste's alert scan (see waste.alerts.rules.rules_all)."""
        from logistics.alerts import alert_rules

        return alert_rules()
