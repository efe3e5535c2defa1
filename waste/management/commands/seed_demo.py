from django.core.management.base import BaseCommand

from waste.demo import DEMO_PASSWORD, seed_demo_city


class Command(BaseCommand):
    help = "Create the demo city (Tianjin) and its demo users. Safe to run again."

    def handle(self, *args, **options):
        city = seed_demo_city()
        self.stdout.write(
            f"Demo city ready: {len(city.organisations)} organisations, {len(city.sites)} sites. "
            f"Users {', '.join(sorted(city.users))} / password {DEMO_PASSWORD}"
        )
