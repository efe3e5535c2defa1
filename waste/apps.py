from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class WasteConfig(AppConfig):
    name = "waste"
    verbose_name = _("Waste tracking")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from waste import checks, dbroles  # noqa: F401 - checks registers the deployment checks

        # Every migrate ends with the application role's grants (the owner runs it; see waste.dbroles).
        post_migrate.connect(dbroles.grants_after_migrate, sender=self, dispatch_uid="waste-grants")
        from waste.api import tokens  # noqa: F401  (connects the token cache's invalidation)
