"""Demo data: the fictional Val-de-Lys territory with one CLS and one CLSM.

Every state is reached by running the transitions through the services, so the demo's audit
trail is real. Running the command again changes nothing; ``--actions N`` adds (or tops up) a
large benchmark programme with N fiches.
"""

from __future__ import annotations

import datetime
import itertools
import time
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from projects.models import (
    ActionState,
    Axis,
    Membership,
    Objective,
    Organisation,
    OrganisationKind,
    Programme,
    Role,
    WorkingGroup,
)
from workflows import demo, services

DEMO_PASSWORD = "coordo-demo"
CLS_NAME = "CLS Val-de-Lys 2024-2028"
CLSM_NAME = "CLSM Val-de-Lys"
BENCH_NAME = "CLS de charge (benchmark)"

ORGANISATIONS = {
    "ars": ("ARS — Délégation départementale", OrganisationKind.ARS),
    "agglo": ("Val-de-Lys Agglomération", OrganisationKind.EPCI),
    "ville": ("Ville de Lys-sur-Marque", OrganisationKind.COMMUNE),
    "prefecture": ("Préfecture — politique de la ville", OrganisationKind.PREFECTURE),
    "departement": ("Département — conférence des financeurs", OrganisationKind.DEPARTEMENT),
    "cpam": ("CPAM", OrganisationKind.CPAM),
    "caf": ("CAF", OrganisationKind.CAF),
    "epsm": ("EPSM Val-de-Lys", OrganisationKind.HOSPITAL),
    "unafam": ("UNAFAM — délégation locale", OrganisationKind.ASSOCIATION),
    "gem": ("GEM L'Envol", OrganisationKind.ASSOCIATION),
    "bailleur": ("Habitat Val-de-Lys (bailleur social)", OrganisationKind.SOCIAL_LANDLORD),
    "ccas": ("CCAS de Lys-sur-Marque", OrganisationKind.CCAS),
    "prevention": ("Association Prévention Santé Lys", OrganisationKind.ASSOCIATION),
    "centre_social": ("Centre social Bois-Joli", OrganisationKind.ASSOCIATION),
    "addicto": ("Association Addictions Nord-Lys", OrganisationKind.ASSOCIATION),
    "hygiene": ("Service communal d'hygiène et de santé", OrganisationKind.COMMUNE),
    "cpts": ("CPTS du Val-de-Lys", OrganisationKind.CPTS),
    "mission_locale": ("Mission locale du Val-de-Lys", OrganisationKind.ASSOCIATION),
}

# username: (first name, last name, description for the README)
USERS = {
    "coordinatrice": ("Camille", "Martin", "coordonnatrice santé (CLS et CLSM)"),
    "elue": ("Nadia", "Benali", "adjointe au maire à la santé, COPIL des deux dispositifs"),
    "copil.ars": ("Pierre", "Lefebvre", "ARS, membre du COPIL du CLS"),
    "copil.epsm": ("Dr Hélène", "Roussel", "EPSM, membre du COPIL du CLSM"),
    "cotech": ("Julien", "Petit", "comité technique"),
    "referent.ars": ("Sophie", "Durand", "référente ARS (lecture seule)"),
    "financeur.ars": ("Marc", "Lambert", "financeur ARS"),
    "financeur.ville": ("Claire", "Moreau", "financeur Ville"),
    "financeur.agglo": ("Thomas", "Garnier", "financeur Agglomération"),
    "financeur.prefecture": ("Isabelle", "Faure", "financeur Préfecture"),
    "financeur.departement": ("Laurent", "Girard", "financeur Département"),
    "financeur.cpam": ("Anne", "Mercier", "financeur CPAM"),
    "financeur.caf": ("Karim", "Haddad", "financeur CAF"),
    "financeur.bailleur": ("Élodie", "Blanc", "financeur bailleur social"),
    "porteur.ccas": ("Sylvie", "Chevalier", "porteuse d'action, CCAS"),
    "porteur.unafam": ("Bernard", "Roux", "porteur d'action, UNAFAM"),
    "porteur.epsm": ("Dr Hugo", "Perrin", "porteur d'action, EPSM"),
    "membre.gt": ("Léa", "Fontaine", "membre des groupes de travail"),
}
FUNDER_USERS = {
    "ars": "financeur.ars",
    "ville": "financeur.ville",
    "agglo": "financeur.agglo",
    "prefecture": "financeur.prefecture",
    "departement": "financeur.departement",
    "cpam": "financeur.cpam",
    "caf": "financeur.caf",
    "bailleur": "financeur.bailleur",
}
LEAD_USERS = {"ccas": "porteur.ccas", "unafam": "porteur.unafam", "epsm": "porteur.epsm"}

CLS_AXES = [
    ("Accès aux droits et aux soins", ["Réduire le renoncement aux soins des habitants des QPV"]),
    ("Prévention et promotion de la santé", ["Développer l'éducation à la santé dès l'enfance"]),
    (
        "Santé mentale",
        [
            "Déstigmatiser les troubles psychiques",
            "Fluidifier les parcours entre soin, logement et insertion",
        ],
    ),
    ("Santé-environnement", ["Réduire l'exposition à l'habitat indigne"]),
    ("Vieillissement et autonomie", ["Prévenir l'isolement des personnes âgées"]),
]
CLSM_AXES = [
    ("Promotion de la santé mentale", ["Déstigmatiser les troubles psychiques"]),
    ("Parcours et coordination", ["Fluidifier les parcours entre soin, logement et insertion"]),
    ("Jeunesse", ["Repérer plus tôt la souffrance psychique des jeunes"]),
]

E = Decimal

# (programme, axis number, objective index, title, lead, working group, funding, state)
FICHES = [
    (
        "CLSM",
        1,
        0,
        "Semaines d'information sur la santé mentale (SISM) 2026",
        "ville",
        "Déstigmatisation",
        [("ville", "Budget communal", E(3000)), ("ars", "ARS FIR", E(2000))],
        ActionState.CLOSED,
    ),
    (
        "CLSM",
        1,
        0,
        "Formation Premiers Secours en Santé Mentale (PSSM) des agents d'accueil",
        "epsm",
        "Déstigmatisation",
        [("ars", "ARS FIR", E(8400)), ("agglo", "Budget agglomération", E(2000))],
        ActionState.EVALUATION,
    ),
    (
        "CLSM",
        2,
        0,
        "Cellule logement – santé mentale avec les bailleurs",
        "epsm",
        "Logement",
        [("ars", "ARS FIR", E(15000)), ("bailleur", "Fonds bailleurs", E(5000))],
        ActionState.IMPLEMENTATION,
    ),
    (
        "CLS",
        1,
        0,
        "Permanences d'accès aux droits santé en QPV",
        "ccas",
        "Accès aux droits",
        [
            ("prefecture", "Crédits politique de la ville (BOP 147)", E(12000)),
            ("cpam", "CPAM prévention (FNPEIS)", E(6000)),
        ],
        ActionState.FUNDING,
    ),
    (
        "CLS",
        2,
        0,
        "Bus dentaire dans les écoles des Hauts-Prés",
        "prevention",
        "Prévention",
        [("ars", "ARS FIR", E(9000)), ("ville", "Budget communal", E(4500))],
        ActionState.VALIDATED,
    ),
    (
        "CLS",
        2,
        0,
        "Ateliers nutrition et activité physique parents-enfants",
        "centre_social",
        "Prévention",
        [("cpam", "CPAM prévention (FNPEIS)", E(7200)), ("caf", "CAF", E(3000))],
        ActionState.COPIL_REVIEW,
    ),
    (
        "CLS",
        2,
        0,
        "Mois sans tabac — actions de proximité",
        "addicto",
        "Prévention",
        [("ars", "ARS FIR", E(4000))],
        ActionState.CO_CONSTRUCTION,
    ),
    (
        "CLS",
        4,
        0,
        "Repérage de l'habitat indigne et accompagnement",
        "hygiene",
        "Santé-environnement",
        [("agglo", "Budget agglomération", E(10000)), ("ars", "ARS FIR", E(6000))],
        ActionState.IMPLEMENTATION,
    ),
    (
        "CLS",
        5,
        0,
        "Lutte contre l'isolement des seniors (visites à domicile)",
        "ccas",
        "Vieillissement",
        [("departement", "Conférence des financeurs", E(11000))],
        ActionState.FUNDING,
    ),
    (
        "CLSM",
        2,
        0,
        "Groupe de parole pour les aidants familiaux",
        "unafam",
        "Logement",
        [("ars", "ARS FIR", E(2500)), ("ville", "Budget communal", E(1000))],
        ActionState.CLOSED,
    ),
    (
        "CLS",
        1,
        0,
        "Médiation santé dans les quartiers prioritaires",
        "ccas",
        "Accès aux droits",
        [
            ("prefecture", "Crédits politique de la ville (BOP 147)", E(18000)),
            ("ars", "ARS FIR", E(12000)),
        ],
        ActionState.EVALUATION,
    ),
    (
        "CLS",
        1,
        0,
        "Forum annuel de l'accès aux soins",
        "ville",
        "Accès aux droits",
        [("ville", "Budget communal", E(2500))],
        ActionState.DRAFT,
    ),
    (
        "CLS",
        1,
        0,
        "Installation de jeunes médecins : accueil et logement des internes",
        "cpts",
        "Accès aux droits",
        [("agglo", "Budget agglomération", E(15000))],
        ActionState.REJECTED,
    ),
    (
        "CLS",
        2,
        0,
        "Éducation à la vie affective dans les collèges",
        "prevention",
        "Prévention",
        [("ars", "ARS FIR", E(5500)), ("departement", "Budget départemental", E(2000))],
        ActionState.COPIL_REVIEW,
    ),
    (
        "CLS",
        2,
        0,
        "Dépistage des cancers : aller-vers en QPV",
        "cpts",
        "Accès aux droits",
        [("cpam", "CPAM prévention (FNPEIS)", E(6500))],
        ActionState.IMPLEMENTATION,
    ),
    (
        "CLS",
        3,
        1,
        "Équipe mobile psychiatrie-précarité : permanences en CHRS",
        "epsm",
        "Santé mentale",
        [("ars", "ARS FIR", E(20000))],
        ActionState.VALIDATED,
    ),
    (
        "CLS",
        4,
        0,
        "Qualité de l'air intérieur dans les crèches",
        "hygiene",
        "Santé-environnement",
        [("agglo", "Budget agglomération", E(4000))],
        ActionState.CO_CONSTRUCTION,
    ),
    (
        "CLS",
        4,
        0,
        "Prévention du saturnisme dans l'habitat ancien",
        "hygiene",
        "Santé-environnement",
        [("ars", "ARS FIR", E(7000))],
        ActionState.ABANDONED,
    ),
    (
        "CLS",
        5,
        0,
        "Ateliers mémoire et prévention des chutes",
        "ccas",
        "Vieillissement",
        [("departement", "Conférence des financeurs", E(6000)), ("caf", "CAF", E(1500))],
        ActionState.CLOSED,
    ),
    (
        "CLS",
        5,
        0,
        "Repérage de la fragilité par les pharmaciens",
        "cpts",
        "Vieillissement",
        [("cpam", "CPAM prévention (FNPEIS)", E(4800))],
        ActionState.DRAFT,
    ),
    (
        "CLS",
        3,
        0,
        "Conseil local de santé mentale : relais des SISM dans les communes",
        "ville",
        "Santé mentale",
        [("ville", "Budget communal", E(1500))],
        ActionState.CO_CONSTRUCTION,
    ),
    (
        "CLS",
        3,
        1,
        "Coordination des sorties d'hospitalisation psychiatrique",
        "epsm",
        "Santé mentale",
        [("ars", "ARS FIR", E(9000))],
        ActionState.COPIL_REVIEW,
    ),
    (
        "CLSM",
        1,
        0,
        "Exposition « Regards croisés sur la santé mentale »",
        "gem",
        "Déstigmatisation",
        [("ville", "Budget communal", E(1200))],
        ActionState.DRAFT,
    ),
    (
        "CLSM",
        2,
        0,
        "Commission des situations de logement complexes (hors données nominatives)",
        "bailleur",
        "Logement",
        [("bailleur", "Fonds bailleurs", E(3000)), ("ars", "ARS FIR", E(3000))],
        ActionState.FUNDING,
    ),
    (
        "CLSM",
        3,
        0,
        "Points d'écoute jeunes avec la Mission locale",
        "mission_locale",
        "Jeunesse",
        [("ars", "ARS FIR", E(8000)), ("caf", "CAF", E(2000))],
        ActionState.CO_CONSTRUCTION,
    ),
    (
        "CLSM",
        3,
        0,
        "Formation des animateurs jeunesse au repérage de la souffrance psychique",
        "epsm",
        "Jeunesse",
        [("ars", "ARS FIR", E(4500))],
        ActionState.VALIDATED,
    ),
    (
        "CLSM",
        1,
        0,
        "Ciné-débats sur la santé mentale",
        "gem",
        "Déstigmatisation",
        [("ville", "Budget communal", E(900))],
        ActionState.REJECTED,
    ),
    (
        "CLSM",
        2,
        0,
        "Logement d'abord : accompagnement vers le logement autonome",
        "bailleur",
        "Logement",
        [("ars", "ARS FIR", E(12000)), ("bailleur", "Fonds bailleurs", E(6000))],
        ActionState.EVALUATION,
    ),
    (
        "CLSM",
        1,
        0,
        "Guide local des ressources en santé mentale",
        "unafam",
        "Déstigmatisation",
        [("ville", "Budget communal", E(1800))],
        ActionState.IMPLEMENTATION,
    ),
    (
        "CLSM",
        3,
        0,
        "Maison des adolescents : antenne de proximité",
        "epsm",
        "Jeunesse",
        [("departement", "Budget départemental", E(16000))],
        ActionState.ABANDONED,
    ),
    (
        "CLS",
        2,
        0,
        "Sport sur ordonnance pour les patients en ALD",
        "cpts",
        "Prévention",
        [("cpam", "CPAM prévention (FNPEIS)", E(5000)), ("agglo", "Budget agglomération", E(3000))],
        ActionState.CLOSED,
    ),
]

INDICATORS = [
    {
        "kind": "process",
        "label": "Nombre de séances réalisées",
        "unit": "séances",
        "target": E(12),
        "collection_method": "Feuilles de présence",
        "frequency": "Trimestrielle",
    },
    {
        "kind": "result",
        "label": "Part des participants déclarant de meilleures connaissances",
        "unit": "%",
        "baseline": E(0),
        "target": E(80),
        "collection_method": "Questionnaire en fin de séance",
        "frequency": "Annuelle",
    },
]

CLS_GROUPS = [
    "Accès aux droits",
    "Prévention",
    "Santé mentale",
    "Santé-environnement",
    "Vieillissement",
]
CLSM_GROUPS = ["Déstigmatisation", "Logement", "Jeunesse"]


class Command(BaseCommand):
    help = "Crée les données de démonstration (Val-de-Lys : un CLS et un CLSM)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--actions",
            type=int,
            default=0,
            help="crée aussi un dispositif de charge avec N fiches actions (benchmarks)",
        )

    def handle(self, *args, actions: int = 0, **options):
        started = time.monotonic()
        if Programme.objects.filter(name=CLS_NAME).exists():
            self.stdout.write("Données de démonstration déjà présentes : rien à refaire.")
        else:
            self._seed_territory()
            self.stdout.write(
                f"Démonstration créée en {time.monotonic() - started:.1f} s : "
                f"{CLS_NAME}, {CLSM_NAME}, {len(FICHES)} fiches actions."
            )
        if actions:
            self._seed_bench(actions)

    # --- the territory ----------------------------------------------------------------------

    @transaction.atomic
    def _seed_territory(self) -> None:
        orgs = {
            key: Organisation.objects.get_or_create(name=name, defaults={"kind": kind})[0]
            for key, (name, kind) in ORGANISATIONS.items()
        }
        users = self._users()
        cls = self._programme(
            Programme.Kind.CLS,
            CLS_NAME,
            datetime.date(2024, 1, 1),
            datetime.date(2028, 12, 31),
            [orgs[k] for k in ("ars", "agglo", "ville", "prefecture", "departement", "cpam")],
        )
        clsm = self._programme(
            Programme.Kind.CLSM,
            CLSM_NAME,
            datetime.date(2023, 6, 1),
            datetime.date(2029, 5, 31),
            [orgs[k] for k in ("ville", "ars", "epsm")],
        )
        structure = {
            "CLS": (cls, self._axes(cls, CLS_AXES), self._groups(cls, CLS_GROUPS)),
            "CLSM": (clsm, self._axes(clsm, CLSM_AXES), self._groups(clsm, CLSM_GROUPS)),
        }
        for prog, _, groups in structure.values():
            self._memberships(prog, users, orgs, groups)
        # The programmes themselves go through their lifecycle: signed, now in force.
        for prog, _, _ in structure.values():
            prog = services.programme_transition(
                programme=prog, name="send_for_signature", actor=users["coordinatrice"]
            )
            services.programme_transition(
                programme=prog,
                name="enter_into_force",
                actor=users["elue"],
                comment="Contrat signé par l'ensemble des signataires.",
            )
        funders = {orgs[key].pk: users[username] for key, username in FUNDER_USERS.items()}
        to_evaluate = {"CLS"}  # the first fiche in evaluation of the CLS only
        for kind, axis_no, obj_index, title, lead, group, funding, state in FICHES:
            prog, axes, groups = structure[kind]
            evaluated = state == ActionState.EVALUATION and kind in to_evaluate
            if evaluated:
                to_evaluate.discard(kind)
            cast = demo.Cast(
                coordinator=users["coordinatrice"],
                copil=users["elue"],
                funders=funders,
                lead_user=users.get(LEAD_USERS.get(lead, "")),
            )
            fiche = demo.Fiche(
                title=title,
                objective=axes[axis_no][obj_index],
                lead_organisation=orgs[lead],
                working_group=groups[group],
                target_public="Habitants du Val-de-Lys, en priorité des quartiers Les Hauts-Prés, "
                "Bois-Joli et Centre-Gare",
                context="Besoin identifié par le diagnostic local de santé et les groupes de "
                "travail du dispositif.",
                territory="Val-de-Lys Agglomération",
                funding=[(orgs[f], scheme, amount) for f, scheme, amount in funding],
                own_funds=E(500),
                indicators=INDICATORS,
                year=2025 if state == ActionState.CLOSED else 2026,
                # Ready for the COPIL to close; the other fiches in evaluation still lack
                # their measurements and report.
                evaluated=evaluated,
            )
            demo.bring_to(state, fiche, programme=prog, cast=cast)
        # The next COPIL of each programme is convened: its agenda lists what awaits it.
        for prog, _, _ in structure.values():
            services.create_meeting(
                programme=prog,
                actor=users["coordinatrice"],
                body="copil",
                date=timezone.make_aware(datetime.datetime(2026, 12, 10, 14, 0)),
                place="Hôtel de ville de Lys-sur-Marque, salle du conseil",
            )

    def _users(self) -> dict:
        User = get_user_model()
        users = {}
        for username, (first, last, _) in USERS.items():
            user, created = User.objects.get_or_create(
                username=username,
                defaults={
                    "first_name": first,
                    "last_name": last,
                    "email": f"{username}@val-de-lys.example",
                },
            )
            if created:
                user.set_password(DEMO_PASSWORD)
                user.save()
            users[username] = user
        if not User.objects.filter(username="admin").exists():
            User.objects.create_superuser("admin", "admin@val-de-lys.example", DEMO_PASSWORD)
        return users

    def _programme(self, kind, name, start, end, signatories) -> Programme:
        prog = Programme.objects.create(
            kind=kind,
            name=name,
            territory="Val-de-Lys Agglomération (14 communes, 95 000 habitants)",
            epci="Val-de-Lys Agglomération",
            communes="Lys-sur-Marque, Bois-Joli, Hautmesnil, Saint-Aubin-en-Lys, …",
            priority_neighbourhoods="Les Hauts-Prés, Bois-Joli, Centre-Gare",
            start_date=start,
            end_date=end,
        )
        prog.signatories.set(signatories)
        return prog

    def _axes(self, prog, axes) -> dict[int, list[Objective]]:
        result = {}
        for number, (title, objectives) in enumerate(axes, start=1):
            axis = Axis.objects.create(programme=prog, number=number, title=title)
            general = Objective.objects.create(axis=axis, level="general", title=title)
            result[number] = [
                Objective.objects.create(
                    axis=axis, parent=general, level="operational", title=objective
                )
                for objective in objectives
            ]
        return result

    def _groups(self, prog, names) -> dict[str, WorkingGroup]:
        return {name: WorkingGroup.objects.create(programme=prog, name=name) for name in names}

    def _memberships(self, prog, users, orgs, groups) -> None:
        rows = [
            ("coordinatrice", Role.COORDINATOR, None, None),
            ("elue", Role.COPIL, None, None),
            ("copil.ars" if prog.kind == "CLS" else "copil.epsm", Role.COPIL, None, None),
            ("cotech", Role.COTECH, None, None),
            ("referent.ars", Role.ARS_REFERENT, None, None),
        ]
        rows += [(u, Role.FUNDER, orgs[k], None) for k, u in FUNDER_USERS.items()]
        rows += [(u, Role.ACTION_LEAD, orgs[k], None) for k, u in LEAD_USERS.items()]
        rows += [("membre.gt", Role.WG_MEMBER, None, g) for g in groups.values()]
        Membership.objects.bulk_create(
            Membership(
                user=users[u], programme=prog, role=role, organisation=org, working_group=group
            )
            for u, role, org, group in rows
        )

    # --- the benchmark programme --------------------------------------------------------------

    def _seed_bench(self, wanted: int) -> None:
        started = time.monotonic()
        User = get_user_model()
        coordinator, copil, funder_user = (
            User.objects.get_or_create(username=name, defaults={"last_name": name})[0]
            for name in ("bench.coordination", "bench.copil", "bench.financeur")
        )
        funder = Organisation.objects.get_or_create(
            name="Financeur de charge", defaults={"kind": OrganisationKind.ARS}
        )[0]
        lead = Organisation.objects.get_or_create(
            name="Porteur de charge", defaults={"kind": OrganisationKind.ASSOCIATION}
        )[0]
        prog, created = Programme.objects.get_or_create(
            name=BENCH_NAME,
            defaults={
                "kind": Programme.Kind.CLS,
                "territory": "Territoire fictif de charge",
                "start_date": datetime.date(2020, 1, 1),
                "end_date": datetime.date(2030, 12, 31),
            },
        )
        if created:
            Membership.objects.bulk_create(
                [
                    Membership(user=coordinator, programme=prog, role=Role.COORDINATOR),
                    Membership(user=copil, programme=prog, role=Role.COPIL),
                    Membership(
                        user=funder_user, programme=prog, role=Role.FUNDER, organisation=funder
                    ),
                ]
            )
            for number in range(1, 6):
                axis = Axis.objects.create(programme=prog, number=number, title=f"Axe {number}")
                Objective.objects.create(axis=axis, level="operational", title=f"Objectif {number}")
        objectives = list(Objective.objects.filter(axis__programme=prog))
        existing = prog.actions.count()
        if existing >= wanted:
            self.stdout.write(f"{BENCH_NAME} : {existing} fiches déjà présentes.")
            return
        cast = demo.Cast(coordinator=coordinator, copil=copil, funders={funder.pk: funder_user})
        states = itertools.cycle(
            [s for s in ActionState.values] + [ActionState.IMPLEMENTATION, ActionState.CLOSED]
        )
        batch = 250
        for start in range(existing, wanted, batch):
            with transaction.atomic():
                for n in range(start, min(start + batch, wanted)):
                    fiche = demo.Fiche(
                        title=f"Action de charge n°{n + 1}",
                        objective=objectives[n % len(objectives)],
                        lead_organisation=lead,
                        target_public="Tout public",
                        year=2020 + n % 7,
                        funding=[(funder, "ARS FIR", E(1000 + n % 50 * 100))],
                        indicators=INDICATORS[:1],
                    )
                    demo.bring_to(next(states), fiche, programme=prog, cast=cast)
            done = min(start + batch, wanted)
            self.stdout.write(
                f"  {done - existing}/{wanted - existing} fiches "
                f"({time.monotonic() - started:.0f} s)"
            )
        self.stdout.write(
            f"{BENCH_NAME} : {wanted - existing} fiches créées en "
            f"{time.monotonic() - started:.1f} s."
        )
