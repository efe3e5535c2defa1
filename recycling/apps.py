from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RecyclingConfig(AppConfig):
    name = "recycling"
    verbose_name = _("Recycling and treatment")
    default_auto_field = "django.db.models.BigAutoField"

    def seed_demo(self, city) -> None:
        """Called by waste.demo.seed_demo_city: what the demo recycler accepts this year."""
        from recycling.demo import seed_demo

        seed_demo(city)
