from django.db import migrations

from audit import db_guards


def install(apps, schema_editor):
    db_guards.install(schema_editor.connection)


def remove(apps, schema_editor):
    db_guards.remove(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [("workflows", "0001_initial")]

    operations = [migrations.RunPython(install, remove)]
