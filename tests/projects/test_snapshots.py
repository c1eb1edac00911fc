"""The versions of a fiche submitted to the COPIL are keyed by field name: renaming a label in
the interface never makes an older version look changed."""

import importlib

from django.urls import reverse
from django.utils.functional import lazy

from projects.models import Action, ActionSnapshot, ActionState
from tests.world import action_in
from workflows import services


def resubmit(world, action) -> Action:
    services.transition(action, "request_changes", actor=world.copil, comment="Relire")
    return services.transition(
        Action.objects.get(pk=action.pk), "submit_to_copil", actor=world.coordinator
    )


def test_a_renamed_label_changes_no_version(client, world, monkeypatch):
    action = action_in(world, ActionState.COPIL_REVIEW)
    # The interface renames « public visé » between the two submissions of the same fiche.
    field = Action._meta.get_field("target_public")
    monkeypatch.setattr(field, "verbose_name", lazy(lambda: "publics prioritaires", str)())
    resubmit(world, action)
    first, second = (s.data for s in ActionSnapshot.objects.filter(action=action))
    assert first == second
    assert set(first["fiche"]) == {*Action.FICHE_FIELDS, "places"}
    client.force_login(world.copil)
    page = client.get(reverse("coordo:action-versions", args=[action.pk]))
    assert page.context["fiche"] == [] and page.context["parts"] == []
    assert "Aucune différence" in page.content.decode()


def test_the_diff_shows_labels_and_french_values(client, world):
    action = action_in(world, ActionState.COPIL_REVIEW)
    services.transition(action, "request_changes", actor=world.copil, comment="Relire")
    services.update_action(
        action=Action.objects.get(pk=action.pk),
        actor=world.coordinator,
        data={"participation_level": "co_construction", "target_public": "Collégiens"},
    )
    services.add_budget_line(
        action=Action.objects.get(pk=action.pk),
        actor=world.coordinator,
        year=2026,
        category="communication",
        planned=1200,
    )
    services.transition(
        Action.objects.get(pk=action.pk), "submit_to_copil", actor=world.coordinator
    )
    client.force_login(world.copil)
    page = client.get(reverse("coordo:action-versions", args=[action.pk]))
    fiche = {label: (before, after) for label, before, after in page.context["fiche"]}
    assert fiche["niveau de participation"] == ("Consultation", "Co-construction")
    assert fiche["public visé"] == ("Habitants des quartiers prioritaires", "Collégiens")
    budget = dict((label, after) for label, _before, after in page.context["parts"])
    assert "2026 · Communication · Communication · 1\u202f200,00 €" in [
        row.replace("\xa0", "\u202f") for row in budget["Budget prévisionnel"]
    ]


def test_older_snapshots_keyed_by_labels_are_rekeyed():
    migration = importlib.import_module("projects.migrations.0004_snapshots_keyed_by_field")
    old = {
        "fiche": {
            "intitulé": "Bus dentaire",
            "public visé": "Élèves",
            "niveau de participation": "concertation",
            "fonds propres déclarés": "500.00",
            "partenaires": ["CCAS"],
        },
        "budget": [{"année": 2026, "catégorie": "Frais de personnel", "prévisionnel": "700.00"}],
        "indicateurs": [
            {
                "type": "Résultat",
                "libellé": "Élèves vus",
                "unité": "",
                "référence": None,
                "cible": "80.00",
            }
        ],
    }
    assert migration.rekey(old) == {
        "fiche": {
            "title": "Bus dentaire",
            "target_public": "Élèves",
            "participation_level": "concertation",
            "own_funds": "500.00",
        },
        "partners": ["CCAS"],
        "budget": [{"year": 2026, "category": "staff", "planned": "700.00"}],
        "indicators": [
            {
                "kind": "result",
                "label": "Élèves vus",
                "unit": "",
                "baseline": None,
                "target": "80.00",
            }
        ],
    }
