"""One labelling for the trail, on screen and in the export: every event and every change key
the code can write has a label, values read as a French reader expects them, and the export
holds every event it announces — whatever kind of event the trail contains."""

import csv
import datetime
import io
import re
from decimal import Decimal
from pathlib import Path

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db.models import Field
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from audit.labels import CHANGE_LABELS, EVENT_LABELS, Labels
from audit.models import AuditEvent
from contracts.models import Signature
from diagnostic.models import SchemeObjective
from directory.models import Contact
from funding.models import FundingRequest
from importer.reader import read_workbook
from importer.template import write_template
from projects import lifecycle
from projects.models import Action, ActionState, Membership, Programme, ResidentProposal, Role
from tests.world import action_in, complete_fiche
from workflows import queues, services
from workflows.services import diagnostic as diagnostic_services

ROOT = Path(__file__).resolve().parents[2]


def test_every_event_the_code_writes_has_a_label():
    """The events written by name in the code (not transitions) are all labelled."""
    written = set()
    for folder in ("audit", "workflows", "web", "demo", "reporting", "importer"):
        for path in (ROOT / folder).rglob("*.py"):
            written |= set(re.findall(r'event="([a-z_]+)"', path.read_text()))
    assert written and written <= set(EVENT_LABELS)


def _every_kind_of_event() -> Programme:
    """The demo, plus what it does not do: comments, tasks taken and released, a late task,
    a waiver, a reworked report, payments, a séance's register applied, an import, a membership
    changed. Returns the CLS."""
    call_command("seed_demo")
    users = {u.username: u for u in get_user_model().objects.all()}
    coordinator, elue = users["coordinatrice"], users["elue"]
    cls = Programme.objects.get(name__startswith="CLS Val")
    fiches = cls.actions.order_by("pk")
    review = fiches.filter(state=ActionState.COPIL_REVIEW).first()
    services.comment_action(action=review, actor=elue, text="Vu en bureau municipal")
    task = queues.open_task(review)
    services.take_task(task_id=task.pk, actor=elue)
    services.release_task(task_id=task.pk, actor=elue)
    timer = Task.objects.filter(previous=task, status=STATUS.SCHEDULED).get()
    Task.objects.filter(pk=timer.pk).update(scheduled=timezone.now() - datetime.timedelta(hours=1))
    call_command("workflow_timers")
    validated = fiches.filter(state=ActionState.VALIDATED).first()
    services.record_funding_waiver(action=validated, actor=elue, comment="Fonds propres")
    preparing = fiches.filter(state=ActionState.CO_CONSTRUCTION).first()
    kept, dropped = (
        services.add_budget_line(
            action=preparing, actor=coordinator, year=2026, category=category, planned=Decimal(900)
        )
        for category in ("staff", "operating")
    )
    services.update_budget_line(
        line=kept, actor=coordinator, label="Animation des ateliers", planned=kept.planned
    )
    services.remove_budget_line(line=dropped, actor=coordinator)
    evaluated = fiches.get(state=ActionState.EVALUATION, evaluation_report__isnull=False)
    services.update_evaluation_report(action=evaluated, actor=coordinator, difficulties="Aucune")
    granted = FundingRequest.objects.filter(action__programme=cls, state="granted").first()
    tranche = services.add_tranche(
        request=granted,
        actor=coordinator,
        label="advance",
        expected_date=datetime.date(2026, 4, 1),
        expected_amount=Decimal("1000"),
    )
    services.record_tranche_receipt(
        tranche=tranche,
        actor=coordinator,
        received_date=datetime.date(2026, 4, 3),
        received_amount=Decimal("1000"),
    )
    meeting = services.create_meeting(
        programme=cls,
        actor=coordinator,
        body="copil",
        date=timezone.now() - datetime.timedelta(days=1),
        place="Mairie",
    )
    item = meeting.agenda_items.get(action=review)
    services.record_meeting(
        meeting=meeting,
        actor=coordinator,
        chair_id=elue.pk,
        attendee_ids=[elue.pk, coordinator.pk],
        decisions={item.pk: ("request_changes", "Préciser le public")},
    )
    services.apply_meeting_decisions(meeting=meeting, actor=coordinator)
    later = services.create_meeting(
        programme=cls,
        actor=coordinator,
        body="plenary",
        date=timezone.now() + datetime.timedelta(days=30),
        place="Salle des fêtes",
    )
    later = services.reschedule_meeting(
        meeting=later,
        actor=coordinator,
        date=timezone.now() + datetime.timedelta(days=37),
        place="Salle des fêtes",
    )
    services.cancel_meeting(meeting=later, actor=coordinator, reason="Élections municipales")
    out = io.BytesIO()
    write_template(programme=cls, out=out)
    book = load_workbook(io.BytesIO(out.getvalue()))
    book["Actions"].append(["A1", "Atelier mémoire importé"])
    filled = io.BytesIO()
    book.save(filled)
    parsed = read_workbook(filled, size=len(filled.getvalue()), programme=cls)
    services.import_workbook(programme=cls, actor=coordinator, parsed=parsed, filename="f.xlsx")
    membership = Membership.objects.get(programme=cls, user=users["cotech"])
    services.save_structure(membership, actor=coordinator, data={"role": Role.COPIL})
    services.erase_expired_contacts(today=datetime.date(2100, 1, 1))
    pending = Signature.objects.filter(signing__programme=cls, state="pending").first()
    signer = Membership.objects.filter(
        programme=cls, role=pending.role, organisation=pending.organisation
    ).first()
    services.refuse(signature=pending, actor=signer.user, reason="Montant à revoir")
    services.remove_document(document=cls.documents.first(), actor=coordinator)
    diagnostic_services.remove_item(
        SchemeObjective.objects.filter(scheme__programme=cls).last(), actor=coordinator
    )
    services.erase_contact(
        contact=Contact.objects.filter(programmes=cls).first(), actor=coordinator
    )
    services.erase_member(user=users["cotech"], actor=None)
    # The territory's places and the CLSM's own work (the demo records the rest).
    clsm = Programme.objects.get(kind=Programme.Kind.CLSM)
    services.remove_place(place=clsm.places.get(name="Saint-Aubin-en-Lys"), actor=coordinator)
    services.update_resource_session(
        session=clsm.resource_sessions.first(), actor=coordinator, data={"notes": "Relu."}
    )
    services.update_training(
        session=clsm.training_sessions.first(), actor=coordinator, data={"attendance": 90}
    )
    return cls


@pytest.fixture
def full_trail(db):
    return _every_kind_of_event()


def test_every_event_and_change_of_a_full_trail_reads_in_words(full_trail):
    labels = Labels("fr")
    events = AuditEvent.objects.all()
    kinds = set(events.values_list("event", flat=True))
    transitions = {
        n for m in (Action, FundingRequest, Programme, ResidentProposal) for n in lifecycle.names(m)
    }
    assert set(EVENT_LABELS) <= kinds  # the scenario wrote every kind of event
    assert kinds <= set(EVENT_LABELS) | transitions
    for event in events.iterator():
        kind = event.object_type
        assert labels.event_label(kind, event.event) != event.event, event.event
        for state in (event.from_state, event.to_state):
            assert not state or labels.state_label(kind, state) != state, state
        model = apps.get_model(kind)
        for key in event.changes:
            named = key in CHANGE_LABELS or re.match(r"point \d+$", key)
            assert named or isinstance(model._meta.get_field(key), Field), (event.event, key)
            assert labels.field_label(kind, key), key


def test_the_export_holds_every_event_it_announces(client, full_trail):
    """The import's event has change keys that are not fields of the programme (its
    ``actions``, a reverse relation): the workbook used to answer 500 and the CSV to announce
    every event and hold none."""
    client.force_login(get_user_model().objects.get(username="coordinatrice"))
    total = AuditEvent.objects.filter(programme=full_trail).count()
    response = client.get(reverse("coordo:audit-export-csv", args=[full_trail.pk]))
    assert response.status_code == 200
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    header = dict(row for row in rows if len(row) == 2)
    assert header["Événements exportés pour la période"] == str(total)
    journal = rows[rows.index(next(r for r in rows if r and r[0] == "N°")) + 1 :]
    assert len(journal) == total
    imported = next(r for r in journal if r[6] == "Import d'un classeur")
    assert "fiches actions : ∅ → 1" in imported[8]
    response = client.get(reverse("coordo:audit-export-xlsx", args=[full_trail.pk]))
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(b"".join(response.streaming_content)), read_only=True)
    assert sum(1 for _ in book["Journal"].iter_rows()) == total + 1


def test_a_row_that_cannot_be_written_is_said_in_the_file(client, world, monkeypatch):
    """A streamed CSV has sent its header before the rows: if one fails, the file ends by
    saying it is incomplete and how many of the announced events it holds."""
    from audit import export

    action_in(world, ActionState.CO_CONSTRUCTION)
    real = export.row
    written = []

    def fails_on_the_second(labels, event):
        written.append(event)
        if len(written) == 2:
            raise ValueError("boom")
        return real(labels, event)

    monkeypatch.setattr(export, "row", fails_on_the_second)
    client.force_login(world.coordinator)
    response = client.get(reverse("coordo:audit-export-csv", args=[world.programme.pk]))
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    last = list(csv.reader(io.StringIO(text), delimiter=";"))[-1]
    assert last[0] == "EXPORT INCOMPLET" and "1 événement(s) écrit(s) sur 2" in last[1]


def test_the_fiche_history_reads_like_the_export(client, world):
    """The COPIL and the ARS read this screen: labels, not code names; French numbers, amounts
    and dates; the same words as the export."""
    action = complete_fiche(world, action_in(world, ActionState.CO_CONSTRUCTION))
    services.update_action(
        action=action, actor=world.coordinator, data={"own_funds": Decimal("4500")}
    )
    client.force_login(world.ars_referent)
    html = client.get(reverse("coordo:action", args=[action.pk])).content.decode()
    history = html[html.index("Historique (journal d") :]
    assert "fonds propres déclarés</strong> : 0,00 € → 4\u202f500,00 €" in history.replace(
        "\xa0", "\u202f"
    )
    assert "catégorie</strong> : ∅ → Frais de personnel" in history
    assert "début prévu</strong> : ∅ → 01/01/2026" in history
    assert "Proposée → En co-construction" in history
    for code in ("own_funds", "category", "staff", "planned_start", ">draft<", "18000.00"):
        assert code not in history, code
    # One labelling module: the export says the same.
    event = AuditEvent.objects.filter(event="update", action_id=action.pk).last()
    line = Labels("fr").changes_text(event.object_type, event.changes)
    assert line.replace("\xa0", "\u202f") == "fonds propres déclarés : 0,00 € → 4\u202f500,00 €"


def test_the_history_is_in_the_readers_language(client, world):
    action = action_in(world, ActionState.COPIL_REVIEW)
    client.force_login(world.coordinator)
    client.post(reverse("set_language"), {"language": "en"})
    html = client.get(reverse("coordo:action", args=[action.pk])).content.decode()
    history = html[html.index('<table class="timeline') :]
    assert "Proposed → In co-construction" in history
    assert "12/31/2026" in history  # English short dates: month first
