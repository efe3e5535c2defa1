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

    def alert_rules(self) -> dict:
        """Ground-control warnings for waste's alert scan (see waste.alerts.rules.rules_all)."""
        from logistics.alerts import alert_rules

        return alert_rules()
