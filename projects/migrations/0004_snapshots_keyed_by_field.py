from django.db import migrations

# The French labels the older snapshots were keyed by, as they were when those were written.
FICHE = {
    "objectif": "objective",
    "intitulé": "title",
    "contexte et besoins": "context",
    "public visé": "target_public",
    "territoire": "territory",
    "porteur": "lead_organisation",
    "groupe de travail": "working_group",
    "niveau de participation": "participation_level",
    "début prévu": "planned_start",
    "fin prévue": "planned_end",
    "fonds propres déclarés": "own_funds",
}
CATEGORIES = {
    "Frais de personnel": "staff",
    "Fonctionnement": "operating",
    "Prestations de services": "services",
    "Communication": "communication",
    "Investissement / matériel": "equipment",
    "Autres": "other",
}
KINDS = {"Processus": "process", "Résultat": "result", "Impact": "impact"}


def rekey(data: dict) -> dict:
    fiche = dict(data.get("fiche", {}))
    partners = fiche.pop("partenaires", [])
    return {
        "fiche": {FICHE.get(k, k): v for k, v in fiche.items()},
        "partners": partners,
        "budget": [
            {
                "year": row.get("année"),
                "category": CATEGORIES.get(row.get("catégorie"), row.get("catégorie")),
                "planned": row.get("prévisionnel"),
            }
            for row in data.get("budget", [])
        ],
        "indicators": [
            {
                "kind": KINDS.get(row.get("type"), row.get("type")),
                "label": row.get("libellé"),
                "unit": row.get("unité"),
                "baseline": row.get("référence"),
                "target": row.get("cible"),
            }
            for row in data.get("indicateurs", [])
        ],
    }


def forwards(apps, schema_editor):
    """Snapshots are keyed by field name, not by the label of the day: a renamed label must not
    make every older COPIL version look changed."""
    ActionSnapshot = apps.get_model("projects", "ActionSnapshot")
    for snapshot in ActionSnapshot.objects.filter(data__has_key="indicateurs").iterator():
        snapshot.data = rekey(snapshot.data)
        snapshot.save(update_fields=["data"])


class Migration(migrations.Migration):
    dependencies = [("projects", "0003_money_fields_and_derived_decisions")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
