"""French by default; English when the user picks it, with a complete, compiled catalog."""

import gettext
import re
from pathlib import Path

from django.urls import reverse

from projects.models import ActionState
from tests.world import action_in

LOCALE = Path(__file__).resolve().parents[1] / "locale" / "en" / "LC_MESSAGES"
FRENCH_INTERFACE = [
    "Mes tâches",
    "Se déconnecter",
    "Décisions possibles",
    "Historique (journal d",
    "Étape en cours",
    "À prendre par mes rôles",
    "Fiches actions de mes dispositifs",
    "Séances des instances",
    "Ordre du jour et décisions",
    "Excusés / absents",
    "Télécharger le classeur",
    "Prévoir un versement",
    "Aucun versement prévu",
    "Suivi et évaluation",
    "Résultats des indicateurs",
    "Tableau de bord",
    "Rapport annuel",
    "Financements par financeur",
    "Exporter le journal d'audit",
    "Importer des fiches actions",
    "Télécharger le modèle",
    "Cycle de vie du dispositif",
    "Décision attendue du financeur",
]


def _po_entries() -> dict[str, str]:
    text = (LOCALE / "django.po").read_text(encoding="utf-8")
    entries = re.findall(r'^msgid "(.*)"\nmsgstr "(.*)"$', text, flags=re.M)
    return {msgid: msgstr for msgid, msgstr in entries if msgid}


def test_the_english_catalog_is_complete_and_compiled():
    text = (LOCALE / "django.po").read_text(encoding="utf-8")
    assert "#, fuzzy" not in text
    assert not re.search(r'^msgstr(\[\d\])? ""\n\n', text.split("\n\n", 1)[1], flags=re.M)
    compiled = gettext.GNUTranslations((LOCALE / "django.mo").open("rb"))
    for msgid, msgstr in _po_entries().items():
        unescape = msgid.encode().decode("unicode_escape").encode("latin-1").decode("utf-8")
        assert compiled.gettext(unescape) != unescape or msgstr == msgid, msgid


def test_pages_in_english_when_chosen(client, world):
    action = action_in(world, ActionState.COPIL_REVIEW)
    funded = action_in(world, ActionState.FUNDING).funding_requests.get()
    evaluated = action_in(world, ActionState.EVALUATION)
    client.force_login(world.coordinator)
    client.post(
        reverse("coordo:meetings", args=[world.programme.pk]),
        {"body": "copil", "date": "2026-12-10T14:00", "place": "Mairie"},
    )
    french_home = client.get(reverse("coordo:home")).content.decode()
    assert "Mes tâches" in french_home  # French by default
    client.post(reverse("set_language"), {"language": "en"})
    meeting = world.programme.meetings.get()
    pages = [
        reverse("coordo:home"),
        reverse("coordo:inbox"),
        reverse("coordo:actions"),
        reverse("coordo:programme", args=[world.programme.pk]),
        reverse("coordo:action", args=[action.pk]),
        reverse("coordo:meetings", args=[world.programme.pk]),
        reverse("coordo:meeting", args=[meeting.pk]),
        reverse("coordo:meeting-minutes", args=[meeting.pk]),
        reverse("coordo:funding", args=[world.programme.pk]),
        reverse("coordo:funding-request", args=[funded.pk]),
        reverse("coordo:action", args=[evaluated.pk]),
        reverse("coordo:dashboard", args=[world.programme.pk]),
        reverse("coordo:annual-report", args=[world.programme.pk, 2026]),
        reverse("coordo:audit-export", args=[world.programme.pk]),
        reverse("coordo:import", args=[world.programme.pk]),
    ]
    for url in pages:
        page = client.get(url).content.decode()
        assert 'lang="en"' in page, url
        assert "My tasks" in page and "Log out" in page, url
        for french in FRENCH_INTERFACE:
            assert french not in page, (url, french)
    detail = client.get(reverse("coordo:action", args=[action.pk])).content.decode()
    assert "Submitted to the COPIL" in detail and "History (audit trail)" in detail


def test_refusals_are_explained_in_the_users_language(client, world):
    from audit.chain import version

    action = action_in(world, ActionState.COPIL_REVIEW)
    client.force_login(world.copil)
    client.post(reverse("set_language"), {"language": "en"})
    response = client.post(
        reverse("coordo:action-transition", args=[action.pk, "reject"]),
        {"seen_version": version(action), "comment": ""},
        follow=True,
    )
    assert "“Reject” requires a reason or a comment." in response.content.decode()
    # The audit trail itself stays French whatever the language of the person acting.
    from workflows import queues

    client.post(reverse("coordo:task-take", args=[queues.open_task(action).pk]))
    event = action.programme.audit_events.get(event="take_task")
    assert event.comment == "Valider, demander des modifications ou rejeter"


def test_a_request_in_english_leaves_the_thread_in_french(client, world):
    from django.utils import translation

    client.force_login(world.coordinator)
    client.post(reverse("set_language"), {"language": "en"})
    assert "My tasks" in client.get(reverse("coordo:home")).content.decode()
    assert translation.get_language() == "fr"
