import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from audit.chain import verify_chain
from audit.labels import Labels
from audit.models import AuditEvent
from projects.models import Action, ActionState, Membership, Programme, Role
from workflows import services
from workflows.services import Refused


def test_seed_demo_covers_every_state_and_every_role_and_runs_twice(db):
    call_command("seed_demo")
    counts = (Programme.objects.count(), Action.objects.count(), AuditEvent.objects.count())
    states = set(Action.objects.values_list("state", flat=True))
    assert states == set(ActionState.values)
    assert 25 <= counts[1] <= 40
    roles = set(Membership.objects.values_list("role", flat=True))
    assert roles == set(Role.values)
    assert set(Programme.objects.values_list("kind", flat=True)) == {"CLS", "CLSM"}
    # States were reached through the services: each non-draft fiche has transition events.
    closed = Action.objects.filter(state=ActionState.CLOSED).first()
    events = list(
        AuditEvent.objects.filter(object_id=str(closed.pk), object_type="projects.action")
        .order_by("seq")
        .values_list("event", flat=True)
    )
    assert events[0] == "create"
    assert events[-1] == "close"
    assert "approve" in events and "start_implementation" in events
    for programme in Programme.objects.all():
        assert verify_chain(programme_id=programme.pk).ok
    # Every event of the demo's trail has a readable label in the audit-trail export.
    labels = Labels("fr")
    for object_type, event in AuditEvent.objects.values_list("object_type", "event").distinct():
        assert labels.event_label(object_type, event) != event, event
    # One fiche in evaluation is ready for the COPIL to close; the others are not yet.
    elue = get_user_model().objects.get(username="elue")
    ready = Action.objects.get(state=ActionState.EVALUATION, evaluation_report__isnull=False)
    unready = Action.objects.filter(state=ActionState.EVALUATION).exclude(pk=ready.pk).first()
    with pytest.raises(Refused) as refused:
        services.transition(unready, "close", actor=elue)
    assert refused.value.rule == "guard"
    assert services.transition(ready, "close", actor=elue).state == ActionState.CLOSED
    counts = (Programme.objects.count(), Action.objects.count(), AuditEvent.objects.count())

    call_command("seed_demo")
    assert (
        Programme.objects.count(),
        Action.objects.count(),
        AuditEvent.objects.count(),
    ) == counts


def test_seed_demo_benchmark_programme_tops_up(db):
    call_command("seed_demo", actions=12)
    bench = Programme.objects.get(name__contains="benchmark")
    assert bench.actions.count() == 12
    assert set(bench.actions.values_list("state", flat=True)) == set(ActionState.values)
    call_command("seed_demo", actions=15)
    assert bench.actions.count() == 15
    assert verify_chain(programme_id=bench.pk).ok


def test_seed_demo_region_builds_the_department_once_with_intact_trails(db):
    call_command("seed_demo")
    call_command("seed_demo", region=True)
    programmes = Programme.objects.count()
    assert programmes == 12
    referent = get_user_model().objects.get(username="referent.ars")
    assert referent.memberships.filter(is_active=True).values("programme").distinct().count() == 12
    assert all(verify_chain(programme_id=p.pk).ok for p in Programme.objects.all())
    call_command("seed_demo", region=True)  # nothing more
    assert Programme.objects.count() == programmes


def test_load_region_copies_programmes_that_work_like_the_model(client, db):
    """``--load-region``: programmes copied in bulk, with their own people, fiches in every
    state with their processes and tasks, and trails sealed again that verify; a copied
    fiche moves on through the services like any other."""
    from django.urls import reverse
    from viewflow.workflow.models import Task
    from viewflow.workflow.status import STATUS

    from workflows import flows, queues

    call_command("seed_demo", load_region=2, load_fiches=30)
    copies = Programme.objects.filter(name__startswith="CLS de la région n° ").order_by("pk")
    assert copies.count() == 2
    model = Programme.objects.get(name="Modèle de la charge régionale")
    for copy in copies:
        assert copy.actions.count() == 30
        assert set(copy.actions.values_list("state", flat=True)) == set(
            model.actions.values_list("state", flat=True)
        )
        report = verify_chain(programme_id=copy.pk)
        assert report.ok and report.events > 30 * 15
    assert flows.disagreements() == []
    first = copies.first()
    copil = Membership.objects.get(programme=first, role=Role.COPIL).user
    assert copil.username == "region001.modele.copil" and copil.check_password("coordo-demo")
    assert not Membership.objects.filter(programme=first, user__username__startswith="modele")
    # Its people see their own programme's tasks, and decide.
    review = first.actions.filter(state=ActionState.COPIL_REVIEW).first()
    task = queues.open_task(review)
    assert task.status == STATUS.NEW and Task.objects.filter(process=task.process).count() >= 2
    client.force_login(copil)
    assert (
        reverse("coordo:action", args=[review.pk])
        in client.get(reverse("coordo:inbox")).content.decode()
    )
    services.transition(review, "approve", actor=copil)
    assert verify_chain(programme_id=first.pk).ok
    assert AuditEvent.objects.filter(programme=first).order_by("-seq").first().event == "approve"


def test_load_region_on_postgresql_copies_with_copy_and_several_processes(
    committed_db, postgres_only
):
    """The PostgreSQL path: ids from the sequences, COPY, one process per core (more than
    one chunk of five programmes); every chain verifies and the lifecycles agree."""
    from workflows import flows

    call_command("seed_demo", load_region=7, load_fiches=15)
    copies = Programme.objects.filter(name__startswith="CLS de la région n° ")
    assert copies.count() == 7
    assert Action.objects.filter(programme__in=copies).count() == 7 * 15
    for copy in copies:
        assert verify_chain(programme_id=copy.pk).ok
    assert flows.disagreements() == []
    # Run again: nothing is copied twice.
    call_command("seed_demo", load_region=7, load_fiches=15)
    assert Programme.objects.filter(name__startswith="CLS de la région n° ").count() == 7
