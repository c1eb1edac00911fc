"""The fictional department of Lys-et-Marque around Val-de-Lys: ten more programmes (CLS and
CLSM) so that the territory's view has something to consolidate. Each is set up by its
coordinator, signed (or not yet), and its fiches brought to varied states through the services
(``demo.fiches``), with funding and payments, a séance or two and residents' ideas; the ARS
referent and the Département's health officer (``departement``) are members of all twelve.

Run by ``seed_demo --region`` after the Val-de-Lys territory; running it again changes nothing.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal as E

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from demo import fiches as demo
from demo import paths
from demo.territory import CLS_NAME, CLSM_NAME, DEMO_PASSWORD, INDICATORS, ORGANISATIONS
from funding.models import FundingRequest
from projects.models import (
    EDITABLE_STATES,
    ActionState,
    Axis,
    Membership,
    Objective,
    Organisation,
    OrganisationKind,
    Place,
    Programme,
    Role,
)
from workflows import queues, services

DEPARTMENT = "Lys-et-Marque"
DEPARTEMENT_USER = "departement"
S = ActionState

# The department's funders: (organisation key in ``territory.ORGANISATIONS``, scheme, user).
FUNDERS = [
    ("ars", "ARS FIR", "financeur.ars"),
    ("departement", "Conférence des financeurs", DEPARTEMENT_USER),
    ("cpam", "CPAM prévention (FNPEIS)", "financeur.cpam"),
    ("prefecture", "Crédits politique de la ville (BOP 147)", "financeur.prefecture"),
    ("caf", "CAF", "financeur.caf"),
]


@dataclass(frozen=True)
class Territory:
    """A territory of the department: its coordinator runs its CLS and, often, its CLSM."""

    key: str  # the usernames' suffix: coord.<key>, elu.<key>
    epci: str  # the signatory intercommunality or town
    epci_kind: str
    lead: str  # the local organisation that carries most fiches
    lead_kind: str
    coordinator: tuple[str, str]
    elected: tuple[str, str]


@dataclass(frozen=True)
class RegionProgramme:
    territory: Territory
    kind: str
    name: str
    start: datetime.date
    end: datetime.date
    status: str  # where the programme's own lifecycle stands
    axes: tuple[tuple[str, str], ...]  # (axis title as the programme writes it, objective)
    # (title, axis number, state, budget year)
    fiches: tuple[tuple[str, int, str, int], ...]
    residents: int = 0  # residents' ideas received on its public page


D = datetime.date
DEUX_RIVES = Territory(
    "deux-rives",
    "Communauté de communes des Deux-Rives",
    OrganisationKind.EPCI,
    "CCAS de Saint-Rémy-des-Deux-Rives",
    OrganisationKind.CCAS,
    ("Mathilde", "Caron"),
    ("Gérard", "Leroux"),
)
HAUTE_MARQUE = Territory(
    "haute-marque",
    "Communauté de communes du Pays de Haute-Marque",
    OrganisationKind.EPCI,
    "Centre social rural de Haute-Marque",
    OrganisationKind.ASSOCIATION,
    ("Yannick", "Le Goff"),
    ("Françoise", "Delmas"),
)
PORTMARQUE = Territory(
    "portmarque",
    "Ville de Portmarque",
    OrganisationKind.COMMUNE,
    "CCAS de Portmarque",
    OrganisationKind.CCAS,
    ("Inès", "Bouzid"),
    ("Olivier", "Marchand"),
)
PLATEAU = Territory(
    "plateau",
    "Communauté de communes du Plateau des Sources",
    OrganisationKind.EPCI,
    "Maison de santé pluriprofessionnelle du Plateau",
    OrganisationKind.OTHER,
    ("Aurélie", "Vidal"),
    ("Jean-Paul", "Bertin"),
)
AULNE = Territory(
    "aulne",
    "Communauté d'agglomération de la Vallée de l'Aulne",
    OrganisationKind.EPCI,
    "Association Aulne Prévention Santé",
    OrganisationKind.ASSOCIATION,
    ("Romain", "Schmitt"),
    ("Catherine", "Noël"),
)
BOCAGE = Territory(
    "bocage",
    "Communauté de communes Bocage et Forêts",
    OrganisationKind.EPCI,
    "Centre intercommunal d'action sociale du Bocage",
    OrganisationKind.CCAS,
    ("Delphine", "Aubert"),
    ("Michel", "Jacquet"),
)
RIVES = Territory(
    "rives-de-marque",
    "Ville de Rives-de-Marque",
    OrganisationKind.COMMUNE,
    "CCAS de Rives-de-Marque",
    OrganisationKind.CCAS,
    ("Samir", "Belkacem"),
    ("Monique", "Perret"),
)
EPSM = "EPSM de Lys-et-Marque"  # the department's mental-health hospital: leads CLSM fiches

ACCESS = ("Accès aux droits et aux soins", "Réduire le renoncement aux soins")
PREVENTION = ("Prévention et promotion de la santé", "Développer les compétences psychosociales")
MENTAL = ("Santé mentale", "Déstigmatiser les troubles psychiques")
AGEING = ("Vieillissement et autonomie", "Prévenir la perte d'autonomie et l'isolement")
ENVIRONMENT = ("Santé-environnement", "Réduire l'exposition aux risques de l'habitat")
PROMOTION = ("Promotion de la santé mentale", "Informer le grand public et les élus")
PATHWAYS = ("Parcours et coordination", "Éviter les ruptures de parcours")
YOUTH = ("Jeunesse", "Repérer tôt la souffrance psychique des jeunes")

PROGRAMMES = [
    RegionProgramme(
        DEUX_RIVES,
        Programme.Kind.CLS,
        "CLS Communauté de communes des Deux-Rives",
        D(2023, 1, 1),
        D(2027, 12, 31),
        Programme.Status.IN_FORCE,
        (ACCESS, PREVENTION, MENTAL, AGEING),
        (
            ("Navette santé vers les spécialistes de Portmarque", 1, S.IMPLEMENTATION, 2025),
            ("Permanences de la PASS en maisons France services", 1, S.CLOSED, 2024),
            ("Ateliers équilibre et prévention des chutes", 4, S.EVALUATION, 2025),
            ("Compétences psychosociales dans les écoles rurales", 2, S.FUNDING, 2026),
            ("Premiers secours en santé mentale pour les élus", 3, S.COPIL_REVIEW, 2026),
            ("Visites de convivialité des aînés isolés", 4, S.CO_CONSTRUCTION, 2026),
            ("Forum santé des agriculteurs", 2, S.DRAFT, 2026),
        ),
        residents=2,
    ),
    RegionProgramme(
        DEUX_RIVES,
        Programme.Kind.CLSM,
        "CLSM des Deux-Rives",
        D(2024, 3, 1),
        D(2029, 2, 28),
        Programme.Status.IN_FORCE,
        (PROMOTION, PATHWAYS),
        (
            ("Semaines d'information sur la santé mentale en milieu rural", 1, S.CLOSED, 2025),
            ("Cellule de concertation des situations complexes", 2, S.IMPLEMENTATION, 2026),
            ("Annuaire des ressources en santé mentale", 1, S.VALIDATED, 2026),
            ("Groupe d'entraide mutuelle itinérant", 2, S.REJECTED, 2026),
        ),
    ),
    RegionProgramme(
        HAUTE_MARQUE,
        Programme.Kind.CLS,
        "CLS Pays de Haute-Marque 2022-2026",
        D(2022, 7, 1),
        D(2026, 12, 31),
        Programme.Status.FINAL_EVALUATION,
        (
            ("Axe 1 : Accès aux droits et aux soins", ACCESS[1]),
            ("Axe 2 : Prévention et promotion de la santé", PREVENTION[1]),
            ("Axe 3 : Santé-environnement", ENVIRONMENT[1]),
        ),
        (
            ("Accueil des internes en médecine générale", 1, S.CLOSED, 2023),
            ("Bilans de santé des bénéficiaires du RSA", 1, S.CLOSED, 2024),
            ("Radon : mesures dans les logements", 3, S.CLOSED, 2024),
            ("Nutrition dans les cantines scolaires", 2, S.EVALUATION, 2025),
            ("Sport santé en milieu rural", 2, S.ABANDONED, 2025),
            ("Eau potable : information sur les puits privés", 3, S.IMPLEMENTATION, 2025),
        ),
    ),
    RegionProgramme(
        PORTMARQUE,
        Programme.Kind.CLS,
        "CLS Ville de Portmarque",
        D(2025, 1, 1),
        D(2029, 12, 31),
        Programme.Status.IN_FORCE,
        (
            ACCESS,
            ("Santé Mentale", MENTAL[1]),
            ("Nutrition et activité physique", "Promouvoir une alimentation favorable à la santé"),
            ENVIRONMENT,
        ),
        (
            ("Médiation santé au quartier du Port", 1, S.IMPLEMENTATION, 2025),
            ("Centre de santé municipal : étude de faisabilité", 1, S.FUNDING, 2026),
            ("Jardins partagés et ateliers cuisine", 3, S.IMPLEMENTATION, 2026),
            ("Lutte contre l'habitat indigne du centre ancien", 4, S.VALIDATED, 2026),
            ("Ateliers d'estime de soi pour les jeunes", 2, S.COPIL_REVIEW, 2026),
            ("Dépistage organisé du cancer colorectal en pharmacie", 1, S.CO_CONSTRUCTION, 2026),
            ("Parcours du cœur des écoles", 3, S.DECLINED, 2026),
            ("Salles de sport en accès libre", 3, S.DRAFT, 2026),
        ),
        residents=2,
    ),
    RegionProgramme(
        PORTMARQUE,
        Programme.Kind.CLSM,
        "CLSM Ville de Portmarque",
        D(2021, 9, 1),
        D(2026, 12, 31),
        Programme.Status.IN_FORCE,
        (PROMOTION, YOUTH, ("Logement et santé mentale", PATHWAYS[1])),
        (
            ("Formation des gardiens d'immeuble au repérage", 3, S.CLOSED, 2024),
            ("Maison des adolescents : permanences au lycée du Port", 2, S.IMPLEMENTATION, 2025),
            ("Campagne « Parlons santé mentale »", 1, S.EVALUATION, 2025),
            ("Logements accompagnés avec l'EPSM", 3, S.FUNDING, 2026),
            ("Café des familles", 1, S.CO_CONSTRUCTION, 2026),
        ),
    ),
    RegionProgramme(
        PLATEAU,
        Programme.Kind.CLS,
        "CLS Plateau des Sources 2026-2030",
        D(2026, 1, 1),
        D(2030, 12, 31),
        Programme.Status.AWAITING_SIGNATURES,
        (ACCESS, PREVENTION, AGEING),
        (
            ("Télé-expertise entre la MSP et l'hôpital", 1, S.VALIDATED, 2026),
            ("Prévention de la perte d'autonomie à domicile", 3, S.COPIL_REVIEW, 2026),
            ("Vaccination : séances itinérantes", 2, S.CO_CONSTRUCTION, 2026),
            ("Ateliers mémoire dans les foyers ruraux", 3, S.DRAFT, 2026),
        ),
    ),
    RegionProgramme(
        AULNE,
        Programme.Kind.CLS,
        "CLS Vallée de l'Aulne 2024-2028",
        D(2024, 1, 1),
        D(2028, 12, 31),
        Programme.Status.IN_FORCE,
        (
            ("1. Accès aux droits et aux soins", ACCESS[1]),
            ("2. Prévention et promotion de la santé", PREVENTION[1]),
            ("3. Santé mentale", MENTAL[1]),
        ),
        (
            ("Bus santé des villages de la vallée", 1, S.IMPLEMENTATION, 2025),
            ("Éducation à la vie affective au collège", 2, S.CLOSED, 2025),
            ("Addictions : consultations jeunes consommateurs avancées", 2, S.FUNDING, 2026),
            ("Équipe mobile psychiatrie-précarité", 3, S.VALIDATED, 2026),
            ("Accès aux droits : ateliers numériques", 1, S.COPIL_REVIEW, 2026),
            ("Sport sur ordonnance", 2, S.MERGED, 2026),
        ),
        residents=1,
    ),
    RegionProgramme(
        AULNE,
        Programme.Kind.CLSM,
        "CLSM Vallée de l'Aulne",
        D(2026, 9, 1),
        D(2031, 8, 31),
        Programme.Status.DRAFTING,
        (PROMOTION, PATHWAYS),
        (
            ("Diagnostic partagé en santé mentale", 2, S.CO_CONSTRUCTION, 2026),
            ("Charte du conseil local de santé mentale", 1, S.DRAFT, 2026),
            ("Semaines d'information sur la santé mentale 2027", 1, S.DRAFT, 2026),
            ("Formation commune des acteurs du logement", 2, S.DRAFT, 2026),
        ),
    ),
    RegionProgramme(
        BOCAGE,
        Programme.Kind.CLS,
        "CLS Bocage et Forêts",
        D(2023, 6, 1),
        D(2027, 5, 31),
        Programme.Status.IN_FORCE,
        (
            ("Accès aux soins", ACCESS[1]),
            ("Santé des jeunes", PREVENTION[1]),
            AGEING,
            ("Santé-Environnement", ENVIRONMENT[1]),
        ),
        (
            ("Cabinet secondaire de médecine générale", 1, S.CLOSED, 2024),
            ("Points écoute jeunes en milieu rural", 2, S.IMPLEMENTATION, 2025),
            ("Aide aux aidants : relais à domicile", 3, S.EVALUATION, 2025),
            ("Qualité de l'air dans les écoles", 4, S.FUNDING, 2026),
            ("Maison de santé de Bois-le-Roi", 1, S.REJECTED, 2026),
            ("Prévention des chutes : aménagement des logements", 3, S.CO_CONSTRUCTION, 2026),
        ),
        residents=1,
    ),
    RegionProgramme(
        RIVES,
        Programme.Kind.CLSM,
        "CLSM Rives-de-Marque",
        D(2022, 1, 1),
        D(2027, 12, 31),
        Programme.Status.IN_FORCE,
        (PROMOTION, PATHWAYS, YOUTH),
        (
            ("Ciné-débats santé mentale", 1, S.CLOSED, 2024),
            ("Coordination des sorties d'hospitalisation", 2, S.IMPLEMENTATION, 2025),
            ("Repérage par les animateurs jeunesse", 3, S.EVALUATION, 2025),
            ("Pair-aidance en santé mentale", 2, S.FUNDING, 2026),
            ("Lieu de répit pour les familles", 2, S.ABANDONED, 2026),
        ),
    ),
]

RESIDENT_IDEAS = [
    (
        "Un transport solidaire pour aller chez le médecin",
        "Sans voiture, il faut une demi-journée pour un rendez-vous en ville.",
    ),
    (
        "Des consultations le samedi matin",
        "Les personnes qui travaillent ne peuvent pas consulter en semaine.",
    ),
]


def seed() -> bool:
    """Create the department's programmes; False if they are already there."""
    if Programme.objects.filter(name=PROGRAMMES[0].name).exists():
        return False
    with transaction.atomic():
        _seed()
    return True


def _seed() -> None:
    User = get_user_model()
    admin = User.objects.get(username="admin")
    orgs = {key: Organisation.objects.get(name=name) for key, (name, _) in ORGANISATIONS.items()}
    departement = _user(DEPARTEMENT_USER, "Chargée de mission santé", "du Département")
    funders = {orgs[key].pk: User.objects.get(username=u) for key, _, u in FUNDERS}
    epsm = _organisation(admin, EPSM, OrganisationKind.HOSPITAL)
    referent = User.objects.get(username="referent.ars")
    # The Département's health officer follows the Val-de-Lys programmes too.
    for name in (CLS_NAME, CLSM_NAME):
        programme = Programme.objects.get(name=name)
        coordinator = programme.memberships.get(role=Role.COORDINATOR).user
        _member(coordinator, programme, departement, Role.FUNDER, orgs["departement"])
    for number, spec in enumerate(PROGRAMMES):
        t = spec.territory
        coordinator = _user(f"coord.{t.key}", *t.coordinator)
        elected = _user(f"elu.{t.key}", *t.elected)
        local = _organisation(admin, t.epci, t.epci_kind)
        lead = _organisation(admin, t.lead, t.lead_kind)
        programme = _programme(admin, coordinator, spec, [orgs["ars"], orgs["departement"], local])
        for user, role, org in [
            (elected, Role.COPIL, None),
            (referent, Role.ARS_REFERENT, None),
            *((funders[orgs[key].pk], Role.FUNDER, orgs[key]) for key, _, _ in FUNDERS),
        ]:
            _member(coordinator, programme, user, role, org)
        signers = {
            orgs["ars"].pk: User.objects.get(username="signataire.ars"),
            orgs["departement"].pk: User.objects.get(username="signataire.departement"),
            local.pk: elected,  # the EPCI's president signs for it
        }
        paths.signatory_memberships(programme, actor=coordinator, signers=signers)
        programme = _lifecycle(programme, spec.status, coordinator, elected, signers)
        objectives = _axes(coordinator, programme, spec.axes)
        cast = demo.Cast(coordinator=coordinator, copil=elected, funders=funders)
        for index, (title, axis, state, year) in enumerate(spec.fiches):
            fiche = demo.Fiche(
                title=title,
                objective=objectives[axis],
                lead_organisation=epsm if spec.kind == "CLSM" and index % 2 else lead,
                target_public=f"Habitants du territoire ({t.epci})",
                context="Besoin relevé par le diagnostic local de santé.",
                territory=t.epci,
                participation_level=("information", "consultation", "concertation")[index % 3],
                year=year,
                funding=_funding(orgs, number + index),
                own_funds=E(300 * (index + 1)),
                indicators=INDICATORS[: 1 + index % 2],
                evaluated=state == S.EVALUATION and index % 2 == 0,
            )
            action = demo.bring_to(state, fiche, programme=programme, cast=cast)
            if state in EDITABLE_STATES:  # its axis is known from the start
                services.update_action(
                    action=action, actor=coordinator, data={"objective": objectives[axis]}
                )
            _pay(action, coordinator)
            _measure_midway(action, coordinator)
        _seances(programme, coordinator, elected, referent, number)
        _residents(programme, coordinator, spec.residents)
        _age_tasks(programme, number)


def _user(username: str, first: str, last: str):
    user, created = get_user_model().objects.get_or_create(
        username=username,
        defaults={"first_name": first, "last_name": last, "email": f"{username}@lys.example"},
    )
    if created:
        user.set_password(DEMO_PASSWORD)
        user.save()
    return user


def _organisation(admin, name: str, kind: str) -> Organisation:
    return Organisation.objects.filter(name=name).first() or services.save_structure(
        Organisation(name=name, kind=kind), actor=admin
    )


def _member(actor, programme: Programme, user, role: str, organisation=None) -> None:
    if not programme.memberships.filter(user=user, role=role, organisation=organisation).exists():
        services.save_structure(
            Membership(user=user, programme=programme, role=role, organisation=organisation),
            actor=actor,
        )


def _programme(admin, coordinator, spec: RegionProgramme, signatories) -> Programme:
    t = spec.territory
    programme = services.save_structure(
        Programme(
            kind=spec.kind,
            name=spec.name,
            territory=f"{t.epci} ({DEPARTMENT})",
            start_date=spec.start,
            end_date=spec.end,
        ),
        actor=admin,
    )
    _member(admin, programme, coordinator, Role.COORDINATOR)
    if t.epci_kind == OrganisationKind.EPCI:  # its intercommunality, a place of its territory
        services.add_place(
            programme=programme, actor=coordinator, kind=Place.Kind.EPCI, name=t.epci
        )
    programme = services.set_signatories(
        programme=programme, actor=coordinator, organisations=signatories
    )
    if spec.residents:
        programme = services.save_structure(
            programme, actor=coordinator, data={"public_page": True}
        )
    return programme


def _lifecycle(programme: Programme, status: str, coordinator, elected, signers) -> Programme:
    """The programme's own lifecycle, as far as it has gone: the COPIL sends the contract for
    signature, the signatories sign it (in force with the last one), the coordination opens
    the final evaluation."""
    if status == Programme.Status.AWAITING_SIGNATURES:
        return services.transition(programme, "send_for_signature", actor=elected)
    if status in (Programme.Status.IN_FORCE, Programme.Status.FINAL_EVALUATION):
        programme = paths.contract_signed(programme, copil=elected, signers=signers)
    if status == Programme.Status.FINAL_EVALUATION:
        programme = services.transition(programme, "start_final_evaluation", actor=coordinator)
    return programme


def _axes(actor, programme: Programme, axes) -> dict[int, Objective]:
    objectives = {}
    for number, (title, objective) in enumerate(axes, start=1):
        axis = services.save_structure(
            Axis(programme=programme, number=number, title=title), actor=actor
        )
        objectives[number] = services.save_structure(
            Objective(axis=axis, level="operational", title=objective), actor=actor
        )
    return objectives


def _funding(orgs: dict, n: int) -> list:
    """One or two requests, from the department's usual funders, in turn."""
    first = FUNDERS[n % len(FUNDERS)]
    requests = [(orgs[first[0]], first[1], E(2000 + 1500 * (n % 7)))]
    if n % 3 == 0:
        second = FUNDERS[(n + 2) % len(FUNDERS)]
        requests.append((orgs[second[0]], second[1], E(1000 + 500 * (n % 5))))
    return requests


def _pay(action, coordinator) -> None:
    """The granted requests of a fiche under way or done: their advance received (the balance
    too once the fiche is closed)."""
    if action.state not in (S.IMPLEMENTATION, S.EVALUATION, S.CLOSED):
        return
    today = timezone.localdate()
    shares = [("advance", E("0.6"))]
    if action.state == S.CLOSED:
        shares.append(("balance", E("0.4")))
    for request in action.funding_requests.filter(state=FundingRequest.State.GRANTED):
        year = request.year
        for label, share in shares:
            amount = (request.granted_amount * share).quantize(E("1"))
            tranche = services.add_tranche(
                request=request,
                actor=coordinator,
                label=label,
                expected_date=D(year, 4 if label == "advance" else 11, 30),
                expected_amount=amount,
            )
            services.record_tranche_receipt(
                tranche=tranche,
                actor=coordinator,
                received_date=min(D(year, 5 if label == "advance" else 12, 15), today),
                received_amount=amount,
            )


def _measure_midway(action, coordinator) -> None:
    """A fiche under way: its indicators measured half-way to their targets, last June."""
    if action.state != S.IMPLEMENTATION:
        return
    for indicator in action.indicators.exclude(target=None):
        services.record_measurement(
            indicator=indicator,
            actor=coordinator,
            date=min(D(action.planned_start.year, 6, 30), timezone.localdate()),
            value=(indicator.target / 2).quantize(E("1")),
            source="Tableau de suivi du porteur",
        )


def _weekday(day: datetime.date, hour: int) -> datetime.datetime:
    while day.weekday() >= 5:
        day -= datetime.timedelta(days=1)
    return timezone.make_aware(datetime.datetime(day.year, day.month, day.day, hour, 0))


def _seances(programme: Programme, coordinator, elected, referent, number: int) -> None:
    """A COPIL held this year, and, for one programme in two, a plenary held last year."""
    if programme.status == Programme.Status.DRAFTING:
        return
    today = timezone.localdate()
    held = [("copil", _weekday(today - datetime.timedelta(days=30 + 11 * number), 14))]
    if number % 2 == 0:
        held.append(("plenary", _weekday(D(today.year - 1, 10, 16), 18)))
    for body, date in held:
        meeting = services.create_meeting(
            programme=programme,
            actor=coordinator,
            body=body,
            date=date,
            place="Salle du conseil communautaire",
        )
        services.record_meeting(
            meeting=meeting,
            actor=coordinator,
            chair_id=elected.pk,
            attendee_ids=[coordinator.pk, elected.pk, referent.pk],
            decisions={},
        )


def _residents(programme: Programme, coordinator, count: int) -> None:
    """Residents' ideas on the public page: the first published as a proposed fiche, the
    second declined with a public reason."""
    for index, (idea, need) in enumerate(RESIDENT_IDEAS[:count]):
        proposal = services.submit_resident_proposal(programme=programme, idea=idea, need=need)
        if index == 0:
            services.transition(proposal, "publish", actor=coordinator)
        else:
            services.transition(
                proposal,
                "decline",
                actor=coordinator,
                comment="Hors du champ du contrat ; transmis à la commune.",
            )


def _age_tasks(programme: Programme, number: int) -> None:
    """The department's programmes have been running for months, but the demo is seeded
    today: the open task of one fiche in two of the programmes in force is given the due date
    it would have had (two to six weeks ago), so that the territory's view shows late tasks.
    This is the one write the services do not make — viewflow's bookkeeping of a task's due
    date, which no audit event records either."""
    if programme.status != Programme.Status.IN_FORCE or number % 2:
        return
    due = timezone.localdate() - datetime.timedelta(days=14 + 7 * (number % 5))
    for action in programme.actions.filter(state__in=[S.COPIL_REVIEW, S.CO_CONSTRUCTION]):
        task = queues.open_task(action)
        if task is not None:
            task.data = {**task.data, "due": due.isoformat()}
            task.save(update_fields=["data"])
