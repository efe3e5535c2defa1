"""A partial index for the indicators' fate times: the last ``treated`` and ``picked_up`` event per batch,
read by an index-only scan instead of the whole ledger (see waste.indicators)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("waste", "0005_checkpoint_entries_root")]

    operations = [
        migrations.AddIndex(
            model_name="ledgerentry",
            index=models.Index(condition=models.Q(("event_type__in", ["treated", "picked_up"])),
                               fields=["batch", "event_type", "event_time"], name="ledger_fate_times"),
        ),
    ]
