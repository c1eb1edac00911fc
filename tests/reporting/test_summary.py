"""The note de synthèse of a programme, one printable page for elected officials: its figures
(fiches per state and per axis, funding, participation, séances, highlights) written out from a
small scenario; every member sees it whatever their role, outsiders get a 404, anonymous
visitors the login page; the number of queries does not grow with the number of fiches."""

from __future__ import annotations

import datetime
import re
from decimal import Decimal
from html import unescape

import pytest
from django.conf import settings
from django.db import connection
from django.shortcuts import resolve_url
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from projects.models import Action, ActionState, Meeting, Origin, Programme
from reporting.summary import programme_summary
from tests.world import ROLE_USERS, action_in, new_action
from workflows import services


@pytest.fixture
def scene(world):
    """Six fiches: validated, in implementation (funded, 5 000 € received), closed (funded),
    rejected, a draft of the coordination and one proposed by an action lead; one resident's
    proposal; a COPIL held today, a plenary cancelled; three séances to come."""
    Programme.objects.filter(pk=world.programme.pk).update(public_page=True)
    programme = Programme.objects.get(pk=world.programme.pk)
    validated = action_in(world, ActionState.VALIDATED)
    implementation = action_in(world, ActionState.IMPLEMENTATION)
    closed = action_in(world, ActionState.CLOSED)
    rejected = services.transition(
        action_in(world, ActionState.COPIL_REVIEW), "reject", actor=world.copil, comment="Doublon"
    )
    new_action(world)
    services.create_action(
        programme=programme,
        actor=world.action_lead,
        data={"title": "Ateliers mémoire", "lead_organisation": world.lead},
    )
    request = implementation.funding_requests.get()
    tranche = services.add_tranche(
        request=request,
        actor=world.coordinator,
        label="advance",
        expected_date=datetime.date(2026, 4, 1),
        expected_amount=Decimal("5000"),
    )
    services.record_tranche_receipt(
        tranche=tranche,
        actor=world.coordinator,
        received_date=datetime.date(2026, 4, 2),
        received_amount=Decimal("5000"),
    )
    services.submit_resident_proposal(
        programme=programme, idea="Un banc devant le centre de santé", need="Attente debout."
    )
    now = timezone.now()

    def convene(body, days, place, **kwargs):
        return services.create_meeting(
            programme=programme,
            actor=world.coordinator,
            body=body,
            date=now + datetime.timedelta(days=days),
            place=place,
            **kwargs,
        )

    convene(Meeting.Body.COPIL, -1 / 24 / 60, "Mairie")  # held a minute ago
    cancelled = convene(Meeting.Body.PLENARY, -1 / 24 / 60, "Gymnase")
    services.cancel_meeting(meeting=cancelled, actor=world.coordinator, reason="Intempéries")
    convene(Meeting.Body.PLENARY, 10, "Salle des fêtes")
    convene(Meeting.Body.COTECH, 3, "CPAM")
    convene(Meeting.Body.WORKING_GROUP, 5, "CCAS", working_group=world.working_group)
    return {
        "validated": validated,
        "implementation": implementation,
        "closed": closed,
        "rejected": rejected,
    }


def url(programme) -> str:
    return reverse("coordo:programme-summary", args=[programme.pk])


def text(response) -> str:
    return unescape(response.content.decode())


def test_the_summary_figures(world, scene):
    summary = programme_summary(programme=world.programme)
    actions = summary.actions
    assert actions.total == 6
    assert [(state, actions.totals[state]) for state, _label in actions.shown_states] == [
        ("draft", 2),
        ("validated", 1),
        ("rejected", 1),
        ("implementation", 1),
        ("closed", 1),
    ]
    assert summary.running == 2
    axis = world.objective.axis
    assert [(a.label, a.total, a.running, a.closed) for a in summary.axes] == [
        (f"{axis.number}. {axis.title}", 4, 2, 1),
        ("Sans axe (objectif non renseigné)", 2, 0, 0),
    ]
    # Two requests of 18 000 € granted (implementation and closed), 5 000 € received.
    funding = summary.funding
    assert (funding.requests, funding.requested, funding.granted, funding.paid) == (
        2,
        Decimal("36000"),
        Decimal("36000"),
        Decimal("5000"),
    )
    assert funding.remaining == Decimal("31000")
    proposed = {row.origin: row.proposed for row in summary.proposals.by_origin}
    assert proposed == {Origin.COORDINATION: 5, Origin.MEMBER: 1, Origin.RESIDENT: 0}
    assert summary.proposals.residents.received == 1
    # The COPIL held today counts; the cancelled plenary does not.
    assert summary.seances_held == [("Comité de pilotage (COPIL)", 1)]
    assert summary.seances_held_total == 1
    assert [(s.body_label, s.place) for s in summary.next_seances] == [
        ("Comité technique (COTECH)", "CPAM"),
        (world.working_group.name, "CCAS"),
        ("Assemblée plénière", "Salle des fêtes"),
    ]
    # The latest fiches validated or closed, each once, latest first.
    assert [(h.action_id, h.state) for h in summary.highlights] == [
        (scene["closed"].pk, "closed"),
        (scene["implementation"].pk, "validated"),
        (scene["validated"].pk, "validated"),
    ]
    assert summary.highlights[0].title == scene["closed"].title
    assert summary.highlights[0].lead == world.lead.name


def test_the_page_prints_the_figures(client, world, scene):
    client.force_login(world.coordinator)
    for kind, name in (("epci", "Val-de-Lys Agglomération"), ("qpv", "Les Hauts-Prés")):
        services.add_place(programme=world.programme, actor=world.coordinator, kind=kind, name=name)
    response = client.get(url(world.programme))
    assert response.status_code == 200
    html = text(response)
    compact = re.sub(r"[\s\u00a0\u202f]", "", html)
    assert world.programme.name in html and "Note de synthèse" in html
    assert "du 01/01/2024 au 31/12/2028" in html
    assert "EPCI : Val-de-Lys Agglomération · Quartiers prioritaires (QPV) : Les Hauts-Prés" in html
    for amount in ("36000,00€", "5000,00€", "31000,00€"):
        assert amount in compact
    assert "Salle des fêtes" in html and "Gymnase" not in html.split("Prochaines séances")[1]
    assert scene["closed"].title in html.split("Faits marquants")[1]
    assert "data-print" in html  # static/coordo/coordo.js prints on click


def test_the_programme_page_links_to_the_summary(client, world):
    client.force_login(world.ars_referent)
    html = text(client.get(reverse("coordo:programme", args=[world.programme.pk])))
    assert f'href="{url(world.programme)}">Note de synthèse</a>' in html


@pytest.mark.parametrize("role", [r for r in ROLE_USERS if r != "outsider"])
def test_every_member_sees_the_summary(client, world, role):
    client.force_login(getattr(world, role))
    assert client.get(url(world.programme)).status_code == 200


def test_outsiders_get_a_404_and_anonymous_visitors_the_login_page(client, world):
    client.force_login(world.outsider)
    assert client.get(url(world.programme)).status_code == 404
    assert client.get(url(world.other_programme)).status_code == 200  # their own programme
    client.force_login(world.coordinator)
    assert client.get(url(world.other_programme)).status_code == 404
    huge = url(world.programme).replace(f"/{world.programme.pk}/", "/" + "9" * 25 + "/")
    for missing in (reverse("coordo:programme-summary", args=[999_999]), huge):
        assert client.get(missing).status_code == 404, missing
    client.logout()
    response = client.get(url(world.programme))
    assert response.status_code == 302
    assert response["Location"].startswith(resolve_url(settings.LOGIN_URL) + "?next=")


def _queries(client, target: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(target).status_code == 200
    return len(ctx.captured_queries)


def test_query_count_does_not_grow_with_the_fiches(client, world, scene):
    client.force_login(world.copil)
    before = _queries(client, url(world.programme))
    extra = [new_action(world).pk for _ in range(60)]
    # Volume in every state: set directly (the lifecycle itself is tested elsewhere).
    for i, state in enumerate((ActionState.VALIDATED, ActionState.CLOSED, ActionState.FUNDING)):
        Action.objects.filter(pk__in=extra[i::3]).update(state=state)
    assert _queries(client, url(world.programme)) == before
