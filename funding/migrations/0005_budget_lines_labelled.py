"""Budget lines free in number: several per category and year, each with its label.

The lines that exist take their category's name as their label (one per category and year
until now, so the new uniqueness — one label per category and year — holds for them)."""

from django.db import migrations, models

# The categories' French names when this migration was written (labels of stored data: the
# model's translatable choices must not decide what is written in the database).
CATEGORY_NAMES = {
    "staff": "Frais de personnel",
    "operating": "Fonctionnement",
    "services": "Prestations de services",
    "communication": "Communication",
    "equipment": "Investissement / matériel",
    "other": "Autres",
}


def label_existing_lines(apps, schema_editor):
    BudgetLine = apps.get_model("funding", "BudgetLine")
    for category, name in CATEGORY_NAMES.items():
        BudgetLine.objects.filter(category=category, label="").update(label=name)
    BudgetLine.objects.filter(label="").update(label="Autres")  # a category since removed


class Migration(migrations.Migration):
    dependencies = [
        ("funding", "0004_one_request_per_funder_scheme_year"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="budgetline",
            options={
                "ordering": ["action", "year", "category", "pk"],
                "verbose_name": "ligne budgétaire",
                "verbose_name_plural": "lignes budgétaires",
            },
        ),
        migrations.RemoveConstraint(model_name="budgetline", name="budget_line_unique"),
        migrations.AddField(
            model_name="budgetline",
            name="label",
            field=models.CharField(default="", max_length=200, verbose_name="libellé"),
            preserve_default=False,
        ),
        migrations.RunPython(label_existing_lines, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="budgetline",
            constraint=models.UniqueConstraint(
                fields=("action", "year", "category", "label"),
                name="budget_line_unique_label",
                violation_error_message=(
                    "Cette fiche a déjà une ligne de ce libellé pour cette catégorie et cette "
                    "année : précisez le libellé ou modifiez la ligne existante."
                ),
            ),
        ),
        migrations.AddConstraint(
            model_name="budgetline",
            constraint=models.CheckConstraint(
                condition=~models.Q(label=""), name="budget_line_labelled"
            ),
        ),
    ]
