import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def keep_content_type(apps, schema_editor):
    """The event's content type and permissions follow it to the ``audit`` app."""
    ContentType = apps.get_model("contenttypes", "ContentType")
    if not ContentType.objects.filter(app_label="audit", model="auditevent").exists():
        ContentType.objects.filter(app_label="workflows", model="auditevent").update(
            app_label="audit"
        )


class Migration(migrations.Migration):
    """The audit event, moved from ``workflows`` with its table (state only: no SQL)."""

    initial = True

    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("projects", "0002_meetings"),
        ("workflows", "0005_auditevent_table_named"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="AuditEvent",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("seq", models.PositiveBigIntegerField(verbose_name="n°")),
                        ("at", models.DateTimeField(verbose_name="date (UTC)")),
                        ("actor_label", models.CharField(max_length=300, verbose_name="auteur (nom)")),
                        ("object_type", models.CharField(max_length=100, verbose_name="type d'objet")),
                        ("object_id", models.CharField(max_length=64, verbose_name="identifiant de l'objet")),
                        ("object_repr", models.CharField(max_length=300, verbose_name="objet")),
                        ("action_id", models.BigIntegerField(blank=True, null=True, verbose_name="fiche action")),
                        ("event", models.CharField(max_length=64, verbose_name="événement")),
                        ("from_state", models.CharField(blank=True, max_length=30, verbose_name="état de départ")),
                        ("to_state", models.CharField(blank=True, max_length=30, verbose_name="état d'arrivée")),
                        ("changes", models.JSONField(blank=True, default=dict, verbose_name="modifications")),
                        ("comment", models.TextField(blank=True, verbose_name="commentaire")),
                        ("ip", models.GenericIPAddressField(blank=True, null=True, verbose_name="adresse IP")),
                        ("prev_hash", models.CharField(max_length=64, verbose_name="empreinte précédente")),
                        ("hash", models.CharField(max_length=64, unique=True, verbose_name="empreinte")),
                        ("actor", models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name="+", to=settings.AUTH_USER_MODEL, verbose_name="auteur")),
                        ("programme", models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name="audit_events", to="projects.programme", verbose_name="dispositif")),
                    ],
                    options={
                        "verbose_name": "événement d'audit",
                        "verbose_name_plural": "journal d'audit",
                        "db_table": "workflows_auditevent",
                        "ordering": ["programme", "seq"],
                        "indexes": [
                            models.Index(fields=["object_type", "object_id", "seq"], name="workflows_a_object__5fa035_idx"),
                            models.Index(fields=["action_id", "seq"], name="workflows_a_action__8cfcdf_idx"),
                            models.Index(fields=["programme", "at"], name="workflows_a_program_051921_idx"),
                        ],
                        "constraints": [models.UniqueConstraint(fields=("programme", "seq"), name="audit_chain_position_unique")],
                    },
                ),
            ]
        ),
        migrations.RunPython(keep_content_type, migrations.RunPython.noop),
    ]
