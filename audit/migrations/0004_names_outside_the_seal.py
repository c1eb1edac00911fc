from django.db import migrations, models

from audit import db_guards


def remove(apps, schema_editor):
    db_guards.remove(schema_editor.connection)


def install(apps, schema_editor):
    db_guards.install(schema_editor.connection)


class Migration(migrations.Migration):
    """New events keep the shown names outside their seal, so that an erased account's name can
    be replaced by a pseudonym; events already written keep theirs sealed. The triggers are
    rebuilt to let that one update through (SQLite also rebuilds the table to add the column)."""

    dependencies = [("audit", "0003_keyed_chain")]

    operations = [
        migrations.RunPython(remove, install),
        migrations.AddField(
            model_name="auditevent",
            name="names_sealed",
            field=models.BooleanField(default=True, verbose_name="noms scellés"),
        ),
        migrations.RunPython(install, remove),
    ]
