from django.db import migrations, models

from audit import db_guards


def remove(apps, schema_editor):
    db_guards.remove(schema_editor.connection)


def install(apps, schema_editor):
    db_guards.install(schema_editor.connection)


class Migration(migrations.Migration):
    """Events sealed with a secret key (HMAC) name their key. SQLite rebuilds the table to add
    a column: the append-only triggers are put back afterwards (existing rows are copied as
    they are, never updated)."""

    dependencies = [("audit", "0002_no_replace")]

    operations = [
        migrations.RunPython(remove, install),
        migrations.AddField(
            model_name="auditevent",
            name="key_id",
            field=models.CharField(blank=True, default="", max_length=32, verbose_name="clé"),
        ),
        migrations.RunPython(install, remove),
    ]
