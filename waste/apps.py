from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WasteConfig(AppConfig):
    name = "waste"
    verbose_name = _("Waste tracking")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from waste.api import tokens  # noqa: F401  (connects the token cache's invalidation)
