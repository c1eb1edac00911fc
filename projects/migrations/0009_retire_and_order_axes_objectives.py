"""Axes and objectives are retired, never deleted (a fiche keeps the one it answers), and the
objectives of an axis have a rank the coordination can change."""

from django.db import migrations, models


def rank_objectives(apps, schema_editor):
    """Each axis's objectives ranked 1, 2, 3… in the order they had (their creation)."""
    Objective = apps.get_model("projects", "Objective")
    ranks: dict[int, int] = {}
    for objective in Objective.objects.order_by("axis_id", "id").only("pk", "axis_id"):
        ranks[objective.axis_id] = ranks.get(objective.axis_id, 0) + 1
        Objective.objects.filter(pk=objective.pk).update(position=ranks[objective.axis_id])


class Migration(migrations.Migration):
    dependencies = [
        ("projects", "0008_signatory_role_and_sectors"),
    ]

    operations = [
        migrations.AddField(
            model_name="axis",
            name="retired_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="retiré le"),
        ),
        migrations.AddField(
            model_name="objective",
            name="retired_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="retiré le"),
        ),
        migrations.AddField(
            model_name="objective",
            name="position",
            field=models.PositiveSmallIntegerField(default=0, verbose_name="rang dans l'axe"),
        ),
        migrations.AlterModelOptions(
            name="objective",
            options={
                "ordering": ["axis", "position", "id"],
                "verbose_name": "objectif",
                "verbose_name_plural": "objectifs",
            },
        ),
        migrations.RunPython(rank_objectives, migrations.RunPython.noop),
    ]
