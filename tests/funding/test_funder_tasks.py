"""Signatory tasks: each submitted request of a fiche in funding waits, as its own task, for the
decision of the funder it is addressed to; funders decide in parallel."""

import datetime
from decimal import Decimal

from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from audit.models import AuditEvent
from funding.models import FundingRequest
from projects.models import Action, ActionState, Membership, Role
from tests.factories import UserFactory
from tests.world import action_in
from workflows import flows, queues, services

DECISION = {"decision_date": datetime.date(2026, 3, 1)}


def request_to(world, action, funder_id, *, submit=True, amount="9000"):
    """A request of the fiche to ``funder_id``, each under its own call for projects (one
    request per funder, scheme and year)."""
    n = action.funding_requests.filter(funder_id=funder_id).count()
    req = services.create_funding_request(
        action=Action.objects.get(pk=action.pk),
        actor=world.coordinator,
        funder_id=funder_id,
        scheme="Appel à projets" if not n else f"Appel à projets n° {n + 1}",
        year=2026,
        requested_amount=Decimal(amount),
    )
    if submit:
        req = services.transition(req, "submit", actor=world.coordinator)
    return req


def open_funding(world, action):
    return services.transition(
        Action.objects.get(pk=action.pk), "open_funding", actor=world.coordinator
    )


def two_funders(world):
    """A validated fiche with a request to the world's funder and one to the other funder."""
    action = action_in(world, ActionState.VALIDATED)
    ars = request_to(world, action, world.funder_org.pk)
    other_org = Membership.objects.get(user=world.other_funder).organisation
    cpam = request_to(world, action, other_org.pk)
    return action, ars, cpam


def decision_task(req):
    return queues.funder_task(FundingRequest.objects.get(pk=req.pk))


def test_opening_funding_gives_each_funder_its_own_task(client, world):
    action, ars, cpam = two_funders(world)
    assert decision_task(ars) is None  # submitted, but the fiche has not opened funding yet
    open_funding(world, action)
    assert decision_task(ars) and decision_task(cpam)
    assert decision_task(ars).process_id != decision_task(cpam).process_id
    # Each funder sees only the decision asked of its own organisation.
    client.force_login(world.funder)
    page = client.get(reverse("coordo:inbox")).content.decode()
    assert reverse("coordo:funding-request", args=[ars.pk]) in page
    assert reverse("coordo:funding-request", args=[cpam.pk]) not in page
    assert "Décision du financeur" in page
    client.force_login(world.other_funder)
    home = client.get(reverse("coordo:home")).content.decode()
    assert reverse("coordo:funding-request", args=[cpam.pk]) in home
    assert reverse("coordo:funding-request", args=[ars.pk]) not in home
    for user in (world.coordinator, world.copil, world.outsider):
        assert not queues.task_queue(user).filter(process__flow_class=flows.FunderDecisionFlow)


def test_one_funder_deciding_does_not_wait_for_the_other(world):
    action, ars, cpam = two_funders(world)
    open_funding(world, action)
    cpam_task = decision_task(cpam)
    services.transition(
        FundingRequest.objects.get(pk=ars.pk),
        "grant",
        actor=world.funder,
        amount=Decimal("9000"),
        **DECISION,
    )
    done = Task.objects.get(
        process__artifact_object_id=ars.pk, flow_task=flows.FunderDecisionFlow.decide
    )
    assert done.status == STATUS.DONE and done.owner == world.funder
    assert decision_task(cpam) == cpam_task  # still open, untouched
    assert decision_task(cpam).status == STATUS.NEW


def test_request_submitted_after_opening_gets_its_task(world):
    action = action_in(world, ActionState.FUNDING)  # its first request is already granted
    late = request_to(world, action, world.funder_org.pk, submit=False)
    assert decision_task(late) is None  # a draft waits for nobody
    services.transition(late, "submit", actor=world.coordinator)
    assert decision_task(late).status == STATUS.NEW


def test_withdrawing_or_leaving_funding_cancels_the_task(world):
    action, ars, cpam = two_funders(world)
    open_funding(world, action)
    ars_task, cpam_task = decision_task(ars), decision_task(cpam)
    services.transition(
        FundingRequest.objects.get(pk=ars.pk),
        "withdraw",
        actor=world.coordinator,
        comment="Dossier déposé en double",
    )
    assert Task.objects.get(pk=ars_task.pk).status == STATUS.CANCELED
    services.transition(
        Action.objects.get(pk=action.pk), "abandon", actor=world.copil, comment="Porteur dissous"
    )
    assert Task.objects.get(pk=cpam_task.pk).status == STATUS.CANCELED
    assert decision_task(cpam) is None
    call_command("check_workflows")


def test_coordinator_decision_on_behalf_closes_the_funder_task(world, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    action, ars, _cpam = two_funders(world)
    open_funding(world, action)
    task = decision_task(ars)
    services.transition(
        FundingRequest.objects.get(pk=ars.pk),
        "refuse",
        actor=world.coordinator,
        comment="Hors critères",
        decision_letter=SimpleUploadedFile("refus.pdf", b"%PDF-1.4", "application/pdf"),
        **DECISION,
    )
    task = Task.objects.get(pk=task.pk)
    assert task.status == STATUS.DONE and task.owner == world.coordinator


def test_funder_takes_and_releases_the_decision(client, world):
    action, ars, cpam = two_funders(world)
    open_funding(world, action)
    task = decision_task(ars)
    client.force_login(world.other_funder)  # not its organisation
    assert client.post(reverse("coordo:task-take", args=[task.pk])).status_code == 403
    client.force_login(world.outsider)
    assert client.post(reverse("coordo:task-take", args=[task.pk])).status_code == 404
    assert Task.objects.get(pk=task.pk).owner is None
    client.force_login(world.funder)
    page = client.get(reverse("coordo:funding-request", args=[ars.pk])).content.decode()
    assert "Décision attendue du financeur" in page and "Prendre la tâche" in page
    response = client.post(reverse("coordo:task-take", args=[task.pk]))
    assert response.url == reverse("coordo:funding-request", args=[ars.pk])
    assert Task.objects.get(pk=task.pk).owner == world.funder
    event = AuditEvent.objects.get(event="take_task")
    assert event.comment == "Décision du financeur" and event.action_id == action.pk
    client.post(reverse("coordo:task-release", args=[task.pk]))
    assert Task.objects.get(pk=task.pk).owner is None


def test_a_second_funder_of_the_same_organisation_shares_the_task(world):
    action, ars, _cpam = two_funders(world)
    colleague = UserFactory()
    Membership.objects.create(
        user=colleague,
        programme=world.programme,
        role=Role.FUNDER,
        organisation=world.funder_org,
    )
    elsewhere = UserFactory()  # funder for the same organisation, in another programme
    Membership.objects.create(
        user=elsewhere,
        programme=world.other_programme,
        role=Role.FUNDER,
        organisation=world.funder_org,
    )
    open_funding(world, action)
    task = decision_task(ars)
    assert queues.task_queue(colleague).filter(pk=task.pk).exists()
    assert queues.task_queue(world.funder).filter(pk=task.pk).exists()
    assert not queues.task_queue(elsewhere).filter(pk=task.pk).exists()


def test_check_workflows_reports_a_request_without_its_task(world):
    action, ars, _cpam = two_funders(world)
    open_funding(world, action)
    flows.FunderDecisionFlow.instance.cancel(decision_task(ars).process)
    assert flows.funder_disagreements() == ([ars.pk], [])


def test_inbox_and_funding_page_query_counts_do_not_grow(client, world):
    def queries(url):
        with CaptureQueriesContext(connection) as ctx:
            page = client.get(url)
        return len(ctx.captured_queries), len(page.context["rows" if "taches" in url else "page"])

    inbox = reverse("coordo:inbox")
    funding = reverse("coordo:funding", args=[world.programme.pk])
    action = action_in(world, ActionState.FUNDING)
    for _ in range(2):
        request_to(world, action, world.funder_org.pk)
    client.force_login(world.funder)
    few = queries(inbox)
    client.force_login(world.coordinator)
    few_funding = queries(funding)
    for _ in range(10):
        request_to(world, action, world.funder_org.pk)
    client.force_login(world.funder)
    many = queries(inbox)
    client.force_login(world.coordinator)
    many_funding = queries(funding)
    # The funder's inbox also holds the agreement to sign for the grant the fiche already has.
    assert (few[1], many[1], few_funding[1], many_funding[1]) == (3, 13, 3, 13)
    assert (few[0], few_funding[0]) == (many[0], many_funding[0])


def test_funding_page_shows_which_decisions_are_awaited_and_late(client, world):
    action, ars, cpam = two_funders(world)
    open_funding(world, action)
    task = decision_task(ars)
    task.data = {**task.data, "due": "2026-01-05"}
    task.save(update_fields=["data"])
    client.force_login(world.coordinator)
    page = client.get(reverse("coordo:funding", args=[world.programme.pk])).content.decode()
    assert "décision attendue le 05/01/2026" in page and "en retard" in page
    assert reverse("coordo:funding-request", args=[cpam.pk]) in page


def test_a_late_funder_decision_is_signalled_to_the_coordinator(client, world):
    action, ars, cpam = two_funders(world)
    open_funding(world, action)
    task = decision_task(ars)
    timer = Task.objects.get(previous=task, flow_task_type="TIMER")
    assert timer.status == STATUS.SCHEDULED
    Task.objects.filter(pk=timer.pk).update(scheduled=timezone.now() - datetime.timedelta(hours=1))
    call_command("workflow_timers")
    task = Task.objects.get(pk=task.pk)
    assert "escalated" in task.data and task.status == STATUS.NEW  # still the funder's
    event = AuditEvent.objects.get(event="escalate")
    assert event.object_id == str(ars.pk) and event.action_id == action.pk
    late = f"« Décision du financeur — {world.funder_org.name} » en retard"
    assert event.comment.startswith(late)
    client.force_login(world.coordinator)
    home = client.get(reverse("coordo:home")).content.decode()
    assert "Retards signalés" in home and reverse("coordo:funding-request", args=[ars.pk]) in home
    # Decided late all the same: the deadline is disarmed, the other funder's one still runs.
    services.transition(
        FundingRequest.objects.get(pk=ars.pk),
        "grant",
        actor=world.funder,
        amount=Decimal("9000"),
        **DECISION,
    )
    assert Task.objects.get(pk=task.pk).status == STATUS.DONE
    cpam_timer = Task.objects.get(previous=decision_task(cpam), flow_task_type="TIMER")
    assert cpam_timer.status == STATUS.SCHEDULED
    assert flows.funder_disagreements() == ([], [])
