from django.db import migrations


class Migration(migrations.Migration):
    """The audit event moves to the ``audit`` app and keeps its table: name it explicitly."""

    dependencies = [("workflows", "0004_audit_period_index")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterModelTable(name="auditevent", table="workflows_auditevent")
            ]
        )
    ]
