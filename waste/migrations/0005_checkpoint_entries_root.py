from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("waste", "0004_compliance")]

    operations = [
        migrations.AddField(
            model_name="ledgercheckpoint", name="entries_root",
            field=models.CharField(blank=True, default="", max_length=64), preserve_default=False,
        ),
        migrations.AddField(
            model_name="ledgercheckpoint", name="entries_signature",
            field=models.CharField(blank=True, default="", help_text="base64 Ed25519 signature", max_length=100),
            preserve_default=False,
        ),
    ]
