"""The append-only guard no longer reads a session setting (any role may SET a custom setting, so it
stopped nobody): UPDATE, DELETE and TRUNCATE on the ledger and its checkpoints are refused to every
role that is not the tables' owner (a member of it). The application role is not, and cannot make
itself one; the owner (who runs migrations) could drop the trigger anyway. See waste.dbroles."""

from django.db import migrations

GUARD_OWNER_ONLY = """
CREATE OR REPLACE FUNCTION zw_ledger_append_only() RETURNS trigger AS $$
BEGIN
    IF pg_has_role(current_user, (SELECT relowner FROM pg_class WHERE oid = TG_RELID), 'MEMBER') THEN
        RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
    END IF;
    RAISE EXCEPTION 'the ledger is append-only: %% on %% refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
"""

GUARD_SETTING = """
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
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(GUARD_OWNER_ONLY)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(GUARD_SETTING)


class Migration(migrations.Migration):
    dependencies = [("waste", "0009_batch_custody")]
    operations = [migrations.RunPython(forwards, backwards)]
