from django.db import migrations

from audit import db_guards


def install(apps, schema_editor):
    db_guards.install(schema_editor.connection)


class Migration(migrations.Migration):
    """SQLite: an insert that would replace a stored event is refused too (REPLACE INTO)."""

    dependencies = [("audit", "0001_initial")]

    operations = [migrations.RunPython(install, migrations.RunPython.noop)]
