"""PostgreSQL itself refuses to change or remove ledger entries and checkpoints.

(Superseded by 0010: the session setting below could be set by any role.) The only way round it was
the session setting ``zerowaste.ledger_maintenance = on``, which only a
database superuser's session can set for itself; the test suite uses it to empty tables between
tests. Production roles never set it. (SQLite has no such switch, so the embedded default relies on
the code-level guards in waste.models.ledger.)
"""

from django.db import migrations

TABLES = ["waste_ledgerentry", "waste_ledgercheckpoint"]

PG_FUNCTION = """
CREATE OR REPLACE FUNCTION zw_ledger_append_only() RETURNS trigger AS $$
BEGIN
    IF current_setting('zerowaste.ledger_maintenance', true) = 'on' THEN
        RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
    END IF;
    RAISE EXCEPTION 'the ledger is append-only: %% on %% refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
"""


def forwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_FUNCTION)
        for table in TABLES:
            schema_editor.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                f"FOR EACH ROW EXECUTE FUNCTION zw_ledger_append_only()"
            )
            schema_editor.execute(
                f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                f"FOR EACH STATEMENT EXECUTE FUNCTION zw_ledger_append_only()"
            )


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in TABLES:
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")


class Migration(migrations.Migration):
    dependencies = [("waste", "0002_chain")]
    operations = [migrations.RunPython(forwards, backwards)]
