"""The day partitions of positions are made and dropped through two functions that run with the
rights of the role that migrated (SECURITY DEFINER): with two database roles (waste.dbroles) only the
owner of the partitioned table may attach partitions to it, and the application role that ingests
positions and runs the hourly maintenance calls these instead. The drop refuses partitions of the last
30 days, so the application role cannot erase recent tracks."""

from django.db import migrations

FUNCTIONS_SQL = """
CREATE OR REPLACE FUNCTION logistics_position_partition_make(day date) RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    name text := 'logistics_vehicleposition_p' || to_char(day, 'YYYYMMDD');
    start timestamptz := day::timestamp AT TIME ZONE 'UTC';
BEGIN
    IF to_regclass(name) IS NOT NULL THEN
        RETURN false;
    END IF;
    EXECUTE format(
        'CREATE TABLE IF NOT EXISTS %I PARTITION OF logistics_vehicleposition FOR VALUES FROM (%L) TO (%L)',
        name, start, start + interval '1 day'
    );
    RETURN true;
END $$;

CREATE OR REPLACE FUNCTION logistics_position_partition_drop(day date) RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    name text := 'logistics_vehicleposition_p' || to_char(day, 'YYYYMMDD');
BEGIN
    IF day >= (now() AT TIME ZONE 'UTC')::date - 30 THEN
        RAISE EXCEPTION 'positions of the last 30 days are kept (asked to drop %)', day;
    END IF;
    IF to_regclass(name) IS NULL THEN
        RETURN false;
    END IF;
    EXECUTE format('DROP TABLE %I', name);
    RETURN true;
END $$;
"""

DROP_SQL = """
DROP FUNCTION IF EXISTS logistics_position_partition_make(date);
DROP FUNCTION IF EXISTS logistics_position_partition_drop(date);
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FUNCTIONS_SQL, params=None)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP_SQL, params=None)


class Migration(migrations.Migration):
    dependencies = [("logistics", "0003_merge")]
    operations = [migrations.RunPython(forwards, backwards)]
