"""PostgreSQL itself refuses to change or remove an incident's timeline entries.

The same trigger function as the ledger's (waste 0003): only a superuser session that sets
``zerowaste.ledger_maintenance = on`` (the test suite, to empty tables) gets through. SQLite relies
on the code-level guards of waste.models.ledger.AppendOnly.
"""

from django.db import migrations

TABLE = "emergency_incidententry"


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        f"CREATE TRIGGER {TABLE}_append_only BEFORE UPDATE OR DELETE ON {TABLE} "
        f"FOR EACH ROW EXECUTE FUNCTION zw_ledger_append_only()"
    )
    schema_editor.execute(
        f"CREATE TRIGGER {TABLE}_no_truncate BEFORE TRUNCATE ON {TABLE} "
        f"FOR EACH STATEMENT EXECUTE FUNCTION zw_ledger_append_only()"
    )


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"DROP TRIGGER IF EXISTS {TABLE}_append_only ON {TABLE}")
    schema_editor.execute(f"DROP TRIGGER IF EXISTS {TABLE}_no_truncate ON {TABLE}")


class Migration(migrations.Migration):
    dependencies = [("emergency", "0001_initial"), ("waste", "0003_ledger_append_only")]
    operations = [migrations.RunPython(forwards, backwards)]
