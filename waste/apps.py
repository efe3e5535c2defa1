from django.apps import AppConfig


class WasteConfig(AppConfig):
    name = "waste"
    verbose_name = "Waste tracking"
    default_auto_field = "django.db.models.BigAutoField"
