from django.apps import apps
from django.core.management.base import BaseCommand

from waste.demo import DEMO_PASSWORD, seed_demo_city


class Command(BaseCommand):
    help = "Create the demo city (Tianjin) and its demo users. Safe to run again."

    def handle(self, *args, **options):
        city = seed_demo_city()
        # Today's work that other apps plan on top of the city (logistics: the driver's round), without
        # waste importing them; only here, so that tests seeding the city plan their own rounds.
        for config in apps.get_app_configs():
            hook = getattr(config, "seed_demo_today", None)
            if callable(hook):
                hook(city)
        self.stdout.write(
            f"Demo city ready: {len(city.organisations)} organisations, {len(city.sites)} sites. "
            f"Users {', '.join(sorted(city.users))} / password {DEMO_PASSWORD}"
        )
