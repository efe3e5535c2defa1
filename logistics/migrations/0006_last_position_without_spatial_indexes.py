"""Each vehicle's newest point is rewritten on every upload and read by vehicle only: no spatial indexes
on it (no query uses them), and on PostgreSQL room left in each page so that the rewrite stays a HOT
update (no index entry written; ``bench positions``). SpatiaLite cannot alter a geometry column, and its
embedded database has no such load: there the indexes stay."""

import django.contrib.gis.db.models.fields
from django.db import migrations


class AlterFieldOnPostgreSQL(migrations.AlterField):
    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)


def fillfactor(percent):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(f"ALTER TABLE logistics_vehiclelastposition SET (fillfactor = {percent})")

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("logistics", "0005_incident_stops"),
    ]

    operations = [
        AlterFieldOnPostgreSQL(
            model_name="vehiclelastposition",
            name="point",
            field=django.contrib.gis.db.models.fields.PointField(spatial_index=False, srid=4326),
        ),
        AlterFieldOnPostgreSQL(
            model_name="vehiclelastposition",
            name="stop_point",
            field=django.contrib.gis.db.models.fields.PointField(spatial_index=False, srid=4326),
        ),
        migrations.RunPython(fillfactor(50), fillfactor(100)),
    ]
