import time

from django.core.management.base import BaseCommand, CommandError

from waste.selectors.ledger import ledger_verify


class Command(BaseCommand):
    help = "Recompute every hash chain and check every signed checkpoint. Exit 1 naming the first bad entry."

    def handle(self, *args, **options):
        started = time.perf_counter()
        count, problems = ledger_verify()
        elapsed = time.perf_counter() - started
        if problems:
            for problem in problems[:20]:
                self.stderr.write(f"  {problem}")
            raise CommandError(f"ledger NOT intact: first bad {problems[0]}")
        rate = count / elapsed if elapsed else 0
        self.stdout.write(f"ledger intact: {count} entries verified in {elapsed:.2f}s ({rate:,.0f}/s)")
