"""The demo's territory and the CLSM's own work, through the services: the places of both
programmes (the agglomeration, four communes, the three QPV), the territory each fiche picks
(several target a QPV, some a public facing inequality), and for the CLSM its resource unit's
sessions (anonymous counts), the SISM 2026 week and the PSSM training linked to their fiches,
and two observation indicators over four years. Each step looks for what it would create
first: a second run changes nothing."""

from __future__ import annotations

import datetime
from decimal import Decimal as E

from clsm.models import ObservationIndicator, ResourceSession, TrainingSession
from projects.models import Place, Programme
from workflows import services

EPCI = "Val-de-Lys Agglomération"
COMMUNES = ["Lys-sur-Marque", "Bois-Joli", "Hautmesnil", "Saint-Aubin-en-Lys"]
QPV = ["Les Hauts-Prés", "Bois-Joli", "Centre-Gare"]

# Fiche title → its places: (kind, name). Not listed: the whole territory.
FICHE_PLACES = {
    "Permanences d'accès aux droits santé en QPV": [("qpv", q) for q in QPV],
    "Médiation santé dans les quartiers prioritaires": [("qpv", q) for q in QPV],
    "Bus dentaire dans les écoles des Hauts-Prés": [("qpv", "Les Hauts-Prés")],
    "Ateliers nutrition et activité physique parents-enfants": [("qpv", "Bois-Joli")],
    "Cellule logement – santé mentale avec les bailleurs": [
        ("commune", "Lys-sur-Marque"),
        ("qpv", "Centre-Gare"),
    ],
    "Repérage de l'habitat indigne et accompagnement": [
        ("commune", "Lys-sur-Marque"),
        ("commune", "Hautmesnil"),
    ],
    "Semaines d'information sur la santé mentale (SISM) 2026": [("epci", EPCI)],
}
# Fiches whose public faces inequality, wherever it lives.
VULNERABLE = {
    "Lutte contre l'isolement des seniors (visites à domicile)",
    "Groupe de parole pour les aidants familiaux",
}

SISM = "Semaines d'information sur la santé mentale (SISM) 2026"
PSSM = "Formation Premiers Secours en Santé Mentale (PSSM) des agents d'accueil"


def seed_places(*, programmes: list[Programme], actor) -> None:
    """The places of each programme's territory (the coordinator maintains them)."""
    wanted = [("epci", EPCI)] + [("commune", c) for c in COMMUNES] + [("qpv", q) for q in QPV]
    for programme in programmes:
        have = set(programme.places.values_list("kind", "name"))
        for kind, name in wanted:
            if (kind, name) not in have:
                services.add_place(programme=programme, actor=actor, kind=kind, name=name)


def fiche_places(programme: Programme, title: str) -> list[Place]:
    """The places a demo fiche targets (none: the whole territory)."""
    wanted = FICHE_PLACES.get(title, [])
    found = {(p.kind, p.name): p for p in programme.places.all()}
    return [found[w] for w in wanted if w in found]


def seed(*, clsm: Programme, users: dict, orgs: dict) -> None:
    """The CLSM's own work (run after its fiches exist)."""
    coordinator = users["coordinatrice"]
    _resource_sessions(clsm, coordinator, orgs)
    _trainings(clsm, coordinator)
    _observation(clsm, coordinator)


# (date, partners, needs: housing care isolation rights other, outcomes: referral follow-up
# closed no-action, notes)
SESSIONS = [
    (
        datetime.date(2026, 2, 12),
        ("epsm", "bailleur", "ccas"),
        (3, 2, 1, 1, 0),
        (3, 2, 1, 1),
        "Délais d'accès au CMP adulte signalés par plusieurs partenaires.",
    ),
    (
        datetime.date(2026, 5, 21),
        ("epsm", "bailleur", "ccas", "unafam"),
        (4, 1, 2, 0, 1),
        (2, 4, 1, 1),
        "Deux situations d'incurie dans le parc social : visite conjointe à organiser.",
    ),
    (
        datetime.date(2026, 9, 17),
        ("epsm", "ccas", "mission_locale"),
        (1, 3, 1, 2, 0),
        (3, 2, 2, 0),
        "Jeunes adultes sans suivi après une hospitalisation : lien à faire avec la Mission "
        "locale.",
    ),
]


def _resource_sessions(clsm: Programme, actor, orgs: dict) -> None:
    needs = [n for n, _label in ResourceSession.NEEDS]
    outcomes = [n for n, _label in ResourceSession.OUTCOMES]
    for date, partners, need_counts, outcome_counts, notes in SESSIONS:
        if ResourceSession.objects.filter(programme=clsm, date=date).exists():
            continue
        services.record_resource_session(
            programme=clsm,
            actor=actor,
            date=date,
            partners=[orgs[k] for k in partners],
            notes=notes,
            **dict(zip(needs, need_counts, strict=True)),
            **dict(zip(outcomes, outcome_counts, strict=True)),
        )


def _trainings(clsm: Programme, actor) -> None:
    fiches = {a.title: a for a in clsm.actions.filter(title__in=[SISM, PSSM])}
    sessions = [
        {
            "kind": TrainingSession.Kind.AWARENESS,
            "title": "SISM 2026 — ciné-débat « Santé mentale et numérique »",
            "date": datetime.date(2026, 10, 8),
            "audience": TrainingSession.Audience.RESIDENTS,
            "attendance": 85,
            "satisfied_percent": 88,
            "mean_score": None,
            "action": fiches.get(SISM),
        },
        {
            "kind": TrainingSession.Kind.TRAINING,
            "title": "PSSM — session des agents d'accueil de la ville et du CCAS",
            "date": datetime.date(2026, 3, 19),
            "audience": TrainingSession.Audience.PROFESSIONALS,
            "attendance": 14,
            "satisfied_percent": 93,
            "mean_score": E("4.6"),
            "action": fiches.get(PSSM),
        },
    ]
    for data in sessions:
        if TrainingSession.objects.filter(
            programme=clsm, title=data["title"], date=data["date"]
        ).exists():
            continue
        services.record_training(programme=clsm, actor=actor, data=data)


INDICATORS = [
    (
        "Passages aux urgences pour motif psychiatrique",
        "pour 10 000 hab.",
        "ORS — données des urgences (OSCOUR)",
        {2022: E("48.2"), 2023: E("51.0"), 2024: E("53.4"), 2025: E("52.1")},
    ),
    (
        "Délai d'attente d'un premier rendez-vous au CMP adulte",
        "jours",
        "EPSM Val-de-Lys — rapport d'activité",
        {2022: E("62"), 2023: E("75"), 2024: E("81"), 2025: E("58")},
    ),
]


def _observation(clsm: Programme, actor) -> None:
    for name, unit, source, values in INDICATORS:
        indicator = ObservationIndicator.objects.filter(programme=clsm, name=name).first()
        if indicator is None:
            indicator = services.add_observation_indicator(
                programme=clsm, actor=actor, name=name, unit=unit, source=source
            )
        have = set(indicator.values.values_list("year", flat=True))
        for year, value in values.items():
            if year not in have:
                services.set_observation_value(
                    indicator=indicator, actor=actor, year=year, value=value
                )
