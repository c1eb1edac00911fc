"""The demo's diagnostics and other schemes, through the services: the CLS's diagnostic local
de santé (its findings with typical data and sources, linked to its axes and fiches), the
schemes it works with (PRS, PTSM, contrat de ville, ASV) and the fiches contributing to them,
the CLSM's shared diagnostic in mental health, and the CLS linked to its CLSM. Run once; a
second run changes nothing."""

from __future__ import annotations

import datetime

from diagnostic.models import Determinant as D
from diagnostic.models import Diagnostic, Finding, Scheme, SchemeObjective
from diagnostic.models import Theme as T
from projects.models import Action, Axis, Programme
from workflows.services import diagnostic as services

# (title, theme, determinant, population, territory, data, source, year, axis, fiches)
CLS_FINDINGS = [
    (
        "Renoncement aux soins élevé dans les quartiers prioritaires",
        T.ACCESS,
        D.CARE,
        "Adultes assurés résidant en QPV",
        "QPV Les Hauts-Prés, Bois-Joli et Centre-Gare",
        "26 % des assurés déclarent avoir renoncé à un soin dans l'année (Val-de-Lys : 17 %)",
        "CPAM — Baromètre du renoncement aux soins",
        2023,
        1,
        [
            "Permanences d'accès aux droits santé en QPV",
            "Médiation santé dans les quartiers prioritaires",
        ],
    ),
    (
        "Faible densité de médecins généralistes",
        T.ACCESS,
        D.CARE,
        "Ensemble de la population",
        "Val-de-Lys Agglomération",
        "6,1 médecins généralistes libéraux pour 10 000 habitants (France : 8,4)",
        "DREES — RPPS, démographie des professionnels de santé",
        2023,
        1,
        ["Installation de jeunes médecins : accueil et logement des internes"],
    ),
    (
        "Santé bucco-dentaire dégradée des jeunes enfants",
        T.CHILDHOOD,
        D.BEHAVIOUR,
        "Enfants de grande section de maternelle",
        "QPV Les Hauts-Prés",
        "38 % des enfants avec au moins une carie non soignée (commune : 21 %)",
        "Bilans de santé en école maternelle (PMI)",
        2022,
        2,
        ["Bus dentaire dans les écoles des Hauts-Prés"],
    ),
    (
        "Surpoids et sédentarité des enfants",
        T.NUTRITION,
        D.BEHAVIOUR,
        "Enfants de 3 à 11 ans et leurs parents",
        "QPV Bois-Joli",
        "19 % des enfants en surpoids ou obèses (France : 16 %)",
        "Bilans de santé PMI et Éducation nationale",
        2022,
        2,
        ["Ateliers nutrition et activité physique parents-enfants"],
    ),
    (
        "Souffrance psychique et recours tardif aux soins des personnes précaires",
        T.MENTAL_HEALTH,
        D.MENTAL_HEALTH,
        "Personnes sans logement stable ou hébergées",
        "Val-de-Lys Agglomération",
        "Hospitalisations sans consentement : 1,4 fois le taux régional",
        "ATIH — RIM-P (psychiatrie)",
        2022,
        3,
        ["Équipe mobile psychiatrie-précarité : permanences en CHRS"],
    ),
    (
        "Habitat indigne et précarité énergétique",
        T.ENVIRONMENT,
        D.LIVING,
        "Ménages locataires du parc privé ancien",
        "Centre-Gare",
        "1 250 logements du parc privé potentiellement indignes",
        "DREAL — fichier du parc privé potentiellement indigne (PPPI)",
        2021,
        4,
        [
            "Repérage de l'habitat indigne et accompagnement",
            "Prévention du saturnisme dans l'habitat ancien",
        ],
    ),
    (
        "Isolement des personnes âgées vivant seules",
        T.AGEING,
        D.SOCIAL,
        "Personnes de 75 ans et plus",
        "Val-de-Lys Agglomération",
        "42 % des 75 ans et plus vivent seuls à domicile",
        "INSEE — recensement de la population",
        2020,
        5,
        ["Lutte contre l'isolement des seniors (visites à domicile)"],
    ),
    (
        "Alcoolisations ponctuelles importantes chez les jeunes",
        T.ADDICTIONS,
        D.BEHAVIOUR,
        "Jeunes de 17 ans",
        "Val-de-Lys Agglomération",
        "19 % déclarent au moins trois alcoolisations importantes dans le mois (région : 16 %)",
        "OFDT — enquête ESCAPAD",
        2022,
        2,
        [],  # no fiche yet: the dashboard and the report show it
    ),
]

CLSM_FINDINGS = [
    (
        "Stigmatisation des troubles psychiques chez les professionnels d'accueil",
        T.MENTAL_HEALTH,
        D.MENTAL_HEALTH,
        "Agents d'accueil des services publics, bailleurs, police municipale",
        "Val-de-Lys Agglomération",
        "61 % des agents interrogés ne savent pas vers qui orienter une personne en crise",
        "Enquête du CLSM auprès des partenaires (n = 184)",
        2023,
        1,
        [
            "Semaines d'information sur la santé mentale (SISM) 2026",
            "Formation Premiers Secours en Santé Mentale (PSSM) des agents d'accueil",
        ],
    ),
    (
        "Ruptures de parcours entre soin psychiatrique et logement",
        T.MENTAL_HEALTH,
        D.LIVING,
        "Locataires du parc social suivis en psychiatrie",
        "Parc social du Val-de-Lys",
        "48 situations complexes signalées par les bailleurs en 2023",
        "Bailleurs sociaux et EPSM — signalements",
        2023,
        2,
        [
            "Cellule logement – santé mentale avec les bailleurs",
            "Groupe de parole pour les aidants familiaux",
        ],
    ),
]

# (kind, name, [(objective, [fiches])])
CLS_SCHEMES = [
    (
        Scheme.Kind.PRS,
        "PRS Hauts-de-France 2023-2028",
        [
            (
                "Objectif 3 — Réduire les inégalités sociales et territoriales de santé",
                [
                    "Permanences d'accès aux droits santé en QPV",
                    "Médiation santé dans les quartiers prioritaires",
                    "Dépistage des cancers : aller-vers en QPV",
                ],
            ),
            (
                "Objectif 5 — Renforcer l'accès aux soins de premier recours",
                ["Installation de jeunes médecins : accueil et logement des internes"],
            ),
        ],
    ),
    (
        Scheme.Kind.PTSM,
        "PTSM de Lys-et-Marque 2020-2025",
        [
            (
                "Axe 2 — Parcours des personnes en situation de précarité",
                ["Équipe mobile psychiatrie-précarité : permanences en CHRS"],
            ),
        ],
    ),
    (
        Scheme.Kind.CITY,
        "Contrat de ville « Engagements Quartiers 2030 » — Val-de-Lys Agglomération",
        [
            (
                "Pilier cohésion sociale — santé et accès aux droits",
                [
                    "Permanences d'accès aux droits santé en QPV",
                    "Bus dentaire dans les écoles des Hauts-Prés",
                    "Ateliers nutrition et activité physique parents-enfants",
                ],
            ),
            (
                "Pilier cadre de vie — habitat et environnement",
                ["Repérage de l'habitat indigne et accompagnement"],
            ),
        ],
    ),
    (
        Scheme.Kind.ASV,
        "Atelier santé ville de Lys-sur-Marque",
        [
            (
                "Accès aux droits et aux soins des habitants des QPV",
                ["Médiation santé dans les quartiers prioritaires"],
            ),
            (
                "Prévention bucco-dentaire et nutrition des enfants",
                [
                    "Bus dentaire dans les écoles des Hauts-Prés",
                    "Ateliers nutrition et activité physique parents-enfants",
                ],
            ),
        ],
    ),
]


def seed(*, cls: Programme, clsm: Programme, users: dict) -> None:
    coordinator = users["coordinatrice"]
    if Diagnostic.objects.filter(programme=cls).exists():
        return
    _diagnostic(
        cls,
        coordinator,
        datetime.date(2023, 6, 15),
        "Observatoire régional de la santé (ORS) et service santé de la ville",
        "INSEE, recensement 2020 ; CPAM, baromètre du renoncement aux soins 2023 ; DREES, "
        "RPPS 2023 ; bilans de santé PMI 2022 ; enquête auprès de 412 habitants des QPV.",
        CLS_FINDINGS,
    )
    _diagnostic(
        clsm,
        coordinator,
        datetime.date(2023, 3, 20),
        "Groupe de travail du CLSM et EPSM du Val-de-Lys",
        "Enquête du CLSM auprès des partenaires 2023 ; signalements des bailleurs ; "
        "file active de l'EPSM.",
        CLSM_FINDINGS,
    )
    fiches = {a.title: a for a in Action.objects.filter(programme=cls)}
    for kind, name, objectives in CLS_SCHEMES:
        scheme = services.add_scheme(programme=cls, actor=coordinator, kind=kind, name=name)
        for title, titles in objectives:
            objective = services.add_scheme_objective(scheme=scheme, actor=coordinator, title=title)
            for fiche_title in titles:
                fiche = fiches[fiche_title]
                services.set_fiche_links(
                    action=fiche,
                    actor=coordinator,
                    findings=list(fiche.findings.all()),
                    scheme_objectives=[*fiche.scheme_objectives.all(), objective],
                )
    _findings_in_schemes(cls, coordinator)
    services.link_programmes(programme=cls, other=clsm, actor=coordinator)


def _findings_in_schemes(programme: Programme, actor) -> None:
    """Each finding is carried by the other schemes' objectives its fiches contribute to; a
    need no fiche answers yet by the regional health plan's (PRS) first objective."""
    prs = SchemeObjective.objects.filter(
        scheme__programme=programme, scheme__kind=Scheme.Kind.PRS
    ).first()
    for finding in Finding.objects.filter(diagnostic__programme=programme):
        carried = {o for a in finding.actions.all() for o in a.scheme_objectives.all()}
        if not carried and prs:
            carried = {prs}
        services.update_finding(
            finding=finding,
            actor=actor,
            data={},
            scheme_objectives=sorted(carried, key=lambda o: o.pk),
        )


def _diagnostic(programme, actor, date, authors, sources, findings) -> None:
    services.save_diagnostic(
        programme=programme,
        actor=actor,
        data={"date": date, "authors": authors, "sources": sources},
    )
    axes = {a.number: a for a in Axis.objects.filter(programme=programme)}
    fiches = {a.title: a for a in Action.objects.filter(programme=programme)}
    for (
        title,
        theme,
        determinant,
        population,
        territory,
        data,
        source,
        year,
        axis,
        titles,
    ) in findings:
        services.add_finding(
            programme=programme,
            actor=actor,
            data={
                "title": title,
                "theme": theme,
                "determinant": determinant,
                "population": population,
                "territory": territory,
                "data": data,
                "source": source,
                "year": year,
            },
            axes=[axes[axis]],
            objectives=list(axes[axis].objectives.exclude(title=axes[axis].title)[:1]),
            actions=[fiches[t] for t in titles],
        )
