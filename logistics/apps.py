from django.apps import AppConfig


class LogisticsConfig(AppConfig):
    name = "logistics"
    verbose_name = "Logistics"
    default_auto_field = "django.db.models.BigAutoField"

    def seed_demo(self, city) -> None:
        """Called by waste.demo.seed_demo_city: vehicles, drivers, licences and today's open pickups."""
        from logistics.demo import seed_demo

        seed_demo(city)
