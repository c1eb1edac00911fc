from django.db import migrations


class Migration(migrations.Migration):
    """The audit event now belongs to the ``audit`` app (its table is untouched)."""

    dependencies = [("workflows", "0005_auditevent_table_named"), ("audit", "0001_initial")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="AuditEvent")]
        )
    ]
