"""The demo's shared workspace: partners and residents propose, the coordination triages, the
COTECH gives its opinion, a working group meets — all through the services, so that each
page shows what it looks like once the territory takes part."""

from __future__ import annotations

import datetime
from decimal import Decimal as E

from django.utils import timezone

from demo.territory import INDICATORS
from projects.models import Action, Membership, Opinion, Programme, Role, WorkingGroup
from workflows import services


def _past(days: int, hour: int = 14) -> datetime.datetime:
    """A weekday about ``days`` ago, at ``hour``."""
    day = timezone.localdate() - datetime.timedelta(days=days)
    while day.weekday() >= 5:
        day -= datetime.timedelta(days=1)
    return timezone.make_aware(datetime.datetime(day.year, day.month, day.day, hour, 0))


def seed(*, cls: Programme, groups: dict[str, WorkingGroup], users: dict, orgs: dict) -> None:
    coordinator = users["coordinatrice"]
    cls = services.save_structure(
        cls,
        actor=coordinator,
        data={"has_cotech": True, "public_page": True, "leads_file_requests": False},
    )
    services.save_structure(
        Membership(user=users["porteur.epsm"], programme=cls, role=Role.COTECH), actor=coordinator
    )

    # A partner proposes; the coordination takes it up with a working group; the lead prepares
    # its part; submitted to the COPIL, it collects the COTECH's opinion first.
    lead = users["porteur.ccas"]
    proposal = services.create_action(
        programme=cls,
        actor=lead,
        data={
            "title": "Bilans de santé pour les allocataires du RSA",
            "context": "Les travailleurs sociaux du CCAS voient chaque semaine des allocataires "
            "sans médecin traitant ni bilan de santé depuis des années.",
            "territory": "Lys-sur-Marque, quartier Centre-Gare",
            "lead_organisation": orgs["ccas"],
        },
    )
    action = services.take_up(
        action=proposal, actor=coordinator, working_group=groups["Accès aux droits"]
    )
    services.update_action(
        action=action,
        actor=lead,
        data={
            "objective": cls.axes.get(number=1).objectives.filter(level="operational").first(),
            "target_public": "Allocataires du RSA accompagnés par le CCAS",
            "planned_start": datetime.date(2027, 1, 15),
            "planned_end": datetime.date(2027, 12, 15),
            "own_funds": E(2000),
        },
    )
    services.add_budget_line(
        action=action, actor=lead, year=2027, category="staff", planned=E(14000)
    )
    services.add_indicator(action=action, actor=lead, **INDICATORS[0])
    action = services.transition(
        Action.objects.get(pk=action.pk), "submit_to_copil", actor=coordinator
    )
    services.give_opinion(
        opinion=Opinion.objects.get(action=action, member=users["cotech"]),
        actor=users["cotech"],
        verdict=Opinion.Verdict.RESERVED,
        text="Utile ; s'appuyer sur le centre d'examens de santé de la CPAM plutôt que d'en "
        "créer un second.",
    )

    # Proposals waiting for the coordination's triage, one merged, one not retained.
    services.create_action(
        programme=cls,
        actor=users["porteur.unafam"],
        data={
            "title": "Café des aidants en santé mentale",
            "context": "Un lieu mensuel pour les proches de personnes vivant avec un trouble "
            "psychique, animé avec le GEM.",
        },
    )
    merged = services.create_action(
        programme=cls,
        actor=users["membre.gt"],
        data={
            "title": "Ateliers cuisine et santé au centre social",
            "context": "Demande des habitantes du groupe « Bien manger à petit prix ».",
            "territory": "Bois-Joli",
        },
    )
    services.transition(
        merged,
        "merge",
        actor=coordinator,
        into=cls.actions.get(title__startswith="Ateliers nutrition et activité physique"),
    )
    declined = services.create_action(
        programme=cls,
        actor=users["financeur.caf"],
        data={"title": "Distribution de flyers sur le sommeil", "context": "Idée d'un agent."},
    )
    services.transition(
        declined,
        "decline",
        actor=coordinator,
        comment="Déjà couvert par la campagne départementale de prévention.",
    )

    # Residents propose through the public page; one is published as a proposed fiche.
    services.submit_resident_proposal(
        programme=cls,
        idea="Un banc et de l'ombre devant la pharmacie des Hauts-Prés",
        need="Les personnes âgées attendent debout au soleil, certaines renoncent à y aller.",
        neighbourhood="Les Hauts-Prés",
        contact_email="habitante@example.org",
        contact_consent=True,
    )
    services.submit_resident_proposal(
        programme=cls,
        idea="Aider Mme Dupont pour ses rendez-vous",
        need="Ma voisine (06 12 34 56 78) ne sort plus depuis son opération.",
        neighbourhood="Centre-Gare",
    )
    published = services.submit_resident_proposal(
        programme=cls,
        idea="Marches santé du dimanche le long de la Lys",
        need="Beaucoup de voisins voudraient bouger mais n'osent pas seuls.",
        neighbourhood="Bois-Joli",
    )
    services.transition(published, "publish", actor=coordinator)

    # A working group met last month: any member chairs, minutes validated by the chair.
    group = groups["Accès aux droits"]
    meeting = services.create_meeting(
        programme=cls,
        actor=coordinator,
        body="working_group",
        working_group=group,
        date=_past(20),
        place="Centre social Bois-Joli",
    )
    services.add_agenda_item(
        meeting=meeting, actor=coordinator, topic="Retour de l'enquête auprès des habitants"
    )
    gt = users["membre.gt"]
    services.record_meeting(
        meeting=meeting,
        actor=coordinator,
        chair_id=gt.pk,
        co_animator_ids=[lead.pk],
        attendee_ids=[gt.pk, lead.pk, coordinator.pk],
        other_attendees="Deux habitantes du quartier Bois-Joli",
        decisions={},
    )
    services.write_minutes(
        meeting=meeting,
        actor=lead,
        text="Le groupe a relu la fiche « Bilans de santé pour les allocataires du RSA » "
        "proposée par le CCAS et suggère des créneaux en soirée. L'enquête auprès des habitants "
        "sera présentée au prochain COTECH.",
    )
    services.validate_minutes(meeting=meeting, actor=gt)

    # The COPIL convenes the partners' plenary assembly: on the public page, in the feed.
    day = timezone.localdate() + datetime.timedelta(days=45)
    while day.weekday() >= 5:
        day += datetime.timedelta(days=1)
    services.create_meeting(
        programme=cls,
        actor=users["elue"],
        body="plenary",
        date=timezone.make_aware(datetime.datetime(day.year, day.month, day.day, 18, 0)),
        place="Salle des fêtes de Lys-sur-Marque",
    )
