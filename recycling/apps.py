from django.apps import AppConfig


class RecyclingConfig(AppConfig):
    name = "recycling"
    verbose_name = "Recycling and treatment"
    default_auto_field = "django.db.models.BigAutoField"
