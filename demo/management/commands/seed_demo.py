"""Demo data: the fictional Val-de-Lys territory with one CLS and one CLSM.

Every state is reached by running the transitions through the services, so the demo's audit
trail is real. Running the command again changes nothing; ``--region`` adds the ten other
programmes of the fictional department (``demo.region``); ``--actions N`` adds (or tops up) a
large benchmark programme with N fiches.
"""

from __future__ import annotations

import datetime
import itertools
import time
from decimal import Decimal as E

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand
from django.db import transaction
from django.test.utils import override_settings
from django.utils import timezone

from demo import bulk, contract, participation, paths
from demo import clsm as demo_clsm
from demo import diagnostic as demo_diagnostic
from demo import directory as demo_directory
from demo import documents as demo_documents
from demo import fiches as demo
from demo import region as demo_region
from demo.territory import (
    BENCH_NAME,
    CLS_AXES,
    CLS_GROUPS,
    CLS_NAME,
    CLSM_AXES,
    CLSM_GROUPS,
    CLSM_NAME,
    DEMO_PASSWORD,
    FICHES,
    FUNDER_USERS,
    INDICATORS,
    LEAD_USERS,
    ORGANISATIONS,
    SIGNATORY_USERS,
    USERS,
)
from notifications.sending import send_pending
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
from workflows import services

# The states the benchmark programmes' fiches cycle through (the busy ones twice).
LOAD_STATES = [*ActionState.values, ActionState.IMPLEMENTATION, ActionState.CLOSED]
REGION_MODEL_NAME = "Modèle de la charge régionale"


class Command(BaseCommand):
    help = "Crée les données de démonstration (Val-de-Lys : un CLS et un CLSM)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--actions",
            type=int,
            default=0,
            help="crée aussi un dispositif de charge avec N fiches actions (benchmarks)",
        )
        parser.add_argument(
            "--region",
            action="store_true",
            help="ajoute dix dispositifs du département fictif de Lys-et-Marque (vue du "
            "territoire de referent.ars et departement)",
        )
        parser.add_argument(
            "--load-region",
            type=int,
            default=0,
            metavar="N",
            help="crée N dispositifs de charge régionale par copie en masse d'un dispositif "
            "modèle (benchmark de charge ; comptes regionNNN.*, mot de passe de la démo)",
        )
        parser.add_argument(
            "--load-fiches",
            type=int,
            default=250,
            metavar="M",
            help="fiches actions par dispositif de charge régionale (250 par défaut)",
        )

    def handle(
        self,
        *args,
        actions: int = 0,
        region: bool = False,
        load_region: int = 0,
        load_fiches: int = 250,
        **options,
    ):
        started = time.monotonic()
        if Programme.objects.filter(name=CLS_NAME).exists():
            self.stdout.write("Données de démonstration déjà présentes : rien à refaire.")
        else:
            self._seed_territory()
            # The demo's people have example addresses: what the seeding told them is
            # delivered nowhere (it stays on their notifications page).
            with override_settings(EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend"):
                send_pending()
            self.stdout.write(
                f"Démonstration créée en {time.monotonic() - started:.1f} s : "
                f"{CLS_NAME}, {CLSM_NAME}, {len(FICHES)} fiches actions."
            )
        if region:
            self._seed_region()
        if actions:
            self._seed_bench(actions)
        if load_region:
            self._seed_load_region(load_region, load_fiches)

    def _seed_load_region(self, programmes: int, per_programme: int) -> None:
        """The model programme (one fiche in each state, through the services), then its
        copies (``demo.bulk``)."""
        started = time.monotonic()
        model = self._seed_bench(
            len(LOAD_STATES), name=REGION_MODEL_NAME, prefix="modele", discussion=12
        )
        bulk.seed_region(
            model,
            programmes=programmes,
            per_programme=per_programme,
            password_hash=make_password(DEMO_PASSWORD),
            log=self.stdout.write,
        )
        self.stdout.write(f"Charge régionale prête en {time.monotonic() - started:.1f} s.")

    def _seed_region(self) -> None:
        started = time.monotonic()
        if not demo_region.seed():
            self.stdout.write("Dispositifs du département déjà présents : rien à refaire.")
            return
        with override_settings(EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend"):
            send_pending()
        self.stdout.write(
            f"Département de {demo_region.DEPARTMENT} créé en {time.monotonic() - started:.1f} s "
            f": {len(demo_region.PROGRAMMES)} dispositifs de plus."
        )

    # --- the territory ----------------------------------------------------------------------

    @transaction.atomic
    def _seed_territory(self) -> None:
        """The administrator creates the organisations, the two programmes and their
        coordinator; the coordinator sets up the rest — all through the audited services."""
        users = self._users()
        admin = get_user_model().objects.get(username="admin")
        orgs = {
            key: Organisation.objects.filter(name=name).first()
            or services.save_structure(Organisation(name=name, kind=kind), actor=admin)
            for key, (name, kind) in ORGANISATIONS.items()
        }
        cls = self._programme(
            admin,
            users["coordinatrice"],
            Programme.Kind.CLS,
            CLS_NAME,
            datetime.date(2024, 1, 1),
            datetime.date(2028, 12, 31),
            [orgs[k] for k in ("ars", "agglo", "ville", "prefecture", "departement", "cpam")],
        )
        clsm = self._programme(
            admin,
            users["coordinatrice"],
            Programme.Kind.CLSM,
            CLSM_NAME,
            datetime.date(2023, 6, 1),
            datetime.date(2029, 5, 31),
            [orgs[k] for k in ("ville", "ars", "epsm")],
        )
        coordinator = users["coordinatrice"]
        structure = {
            "CLS": (
                cls,
                self._axes(coordinator, cls, CLS_AXES),
                self._groups(coordinator, cls, CLS_GROUPS),
            ),
            "CLSM": (
                clsm,
                self._axes(coordinator, clsm, CLSM_AXES),
                self._groups(coordinator, clsm, CLSM_GROUPS),
            ),
        }
        for prog, _, groups in structure.values():
            self._memberships(coordinator, prog, users, orgs, groups)
        # The contracts: sent for signature by the COPIL, signed by each signatory's person
        # (not its funding officer), in force with the last signature.
        signers = {orgs[key].pk: users[name] for key, name in SIGNATORY_USERS.items()}
        for prog, _, _ in structure.values():
            own = {pk: signers[pk] for pk in prog.signatories.values_list("pk", flat=True)}
            paths.signatory_memberships(prog, actor=coordinator, signers=own)
            paths.contract_signed(prog, copil=users["elue"], signers=own)
        funders = {orgs[key].pk: users[username] for key, username in FUNDER_USERS.items()}
        demo_clsm.seed_places(programmes=[cls, clsm], actor=coordinator)
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
                places=demo_clsm.fiche_places(prog, title),
                vulnerable_public=title in demo_clsm.VULNERABLE,
                funding=[(orgs[f], scheme, amount) for f, scheme, amount in funding],
                own_funds=E(500),
                indicators=INDICATORS,
                year=2025 if state == ActionState.CLOSED else 2026,
                # Ready for the COPIL to close; the other fiches in evaluation still lack
                # their measurements and report.
                evaluated=evaluated,
            )
            demo.bring_to(state, fiche, programme=prog, cast=cast)
        contract.seed(
            cls=Programme.objects.get(pk=cls.pk),
            users=users,
            orgs=orgs,
            signers={key: users[name] for key, name in SIGNATORY_USERS.items()},
        )
        cls_groups = structure["CLS"][2]
        participation.seed(cls=cls, groups=cls_groups, users=users, orgs=orgs)
        # The next COPIL of each programme is convened: its agenda lists what awaits it.
        for prog, _, _ in structure.values():
            services.create_meeting(
                programme=prog,
                actor=users["coordinatrice"],
                body="copil",
                date=timezone.make_aware(datetime.datetime(2026, 12, 10, 14, 0)),
                place="Hôtel de ville de Lys-sur-Marque, salle du conseil",
            )
        demo_directory.seed(cls=cls, clsm=clsm, users=users, orgs=orgs)
        demo_documents.seed(cls=cls, users=users)
        demo_diagnostic.seed(cls=cls, clsm=clsm, users=users)
        demo_clsm.seed(clsm=clsm, users=users, orgs=orgs)

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

    def _programme(self, admin, coordinator, kind, name, start, end, signatories) -> Programme:
        prog = services.save_structure(
            Programme(
                kind=kind,
                name=name,
                # Its communes, EPCI and QPV: its places (``demo_clsm.seed_places``).
                territory="Val-de-Lys Agglomération (14 communes, 95 000 habitants)",
                start_date=start,
                end_date=end,
            ),
            actor=admin,
        )
        services.save_structure(
            Membership(user=coordinator, programme=prog, role=Role.COORDINATOR), actor=admin
        )
        return services.set_signatories(
            programme=prog, actor=coordinator, organisations=signatories
        )

    def _axes(self, actor, prog, axes) -> dict[int, list[Objective]]:
        result = {}
        for number, (title, objectives) in enumerate(axes, start=1):
            axis = services.save_structure(
                Axis(programme=prog, number=number, title=title), actor=actor
            )
            general = services.save_structure(
                Objective(axis=axis, level="general", title=title), actor=actor
            )
            result[number] = [
                services.save_structure(
                    Objective(axis=axis, parent=general, level="operational", title=objective),
                    actor=actor,
                )
                for objective in objectives
            ]
        return result

    def _groups(self, actor, prog, names) -> dict[str, WorkingGroup]:
        return {
            name: services.save_structure(WorkingGroup(programme=prog, name=name), actor=actor)
            for name in names
        }

    def _memberships(self, actor, prog, users, orgs, groups) -> None:
        rows = [
            ("elue", Role.COPIL, None, None),
            ("copil.ars" if prog.kind == "CLS" else "copil.epsm", Role.COPIL, None, None),
            ("cotech", Role.COTECH, None, None),
            ("referent.ars", Role.ARS_REFERENT, None, None),
        ]
        rows += [(u, Role.FUNDER, orgs[k], None) for k, u in FUNDER_USERS.items()]
        rows += [(u, Role.ACTION_LEAD, orgs[k], None) for k, u in LEAD_USERS.items()]
        rows += [("membre.gt", Role.WG_MEMBER, None, g) for g in groups.values()]
        for u, role, org, group in rows:
            services.save_structure(
                Membership(
                    user=users[u], programme=prog, role=role, organisation=org, working_group=group
                ),
                actor=actor,
            )

    # --- the benchmark programme --------------------------------------------------------------

    def _seed_bench(
        self, wanted: int, name: str = BENCH_NAME, prefix: str = "bench", discussion: int = 0
    ) -> Programme:
        started = time.monotonic()
        User = get_user_model()
        coordinator, copil, funder_user = (
            User.objects.get_or_create(
                username=f"{prefix}.{role}",
                defaults={
                    "last_name": f"{prefix}.{role}",
                    "password": make_password(DEMO_PASSWORD),
                },
            )[0]
            for role in ("coordination", "copil", "financeur")
        )
        funder = Organisation.objects.get_or_create(
            name="Financeur de charge", defaults={"kind": OrganisationKind.ARS}
        )[0]
        lead = Organisation.objects.get_or_create(
            name="Porteur de charge", defaults={"kind": OrganisationKind.ASSOCIATION}
        )[0]
        prog, created = Programme.objects.get_or_create(
            name=name,
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
            self.stdout.write(f"{name} : {existing} fiches déjà présentes.")
            return prog
        cast = demo.Cast(coordinator=coordinator, copil=copil, funders={funder.pk: funder_user})
        states = itertools.cycle(LOAD_STATES)
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
                    action = demo.bring_to(next(states), fiche, programme=prog, cast=cast)
                    for k in range(discussion):
                        services.comment_action(
                            action=action,
                            actor=(coordinator, copil)[k % 2],
                            text=f"Échange de co-construction n° {k + 1}",
                        )
            done = min(start + batch, wanted)
            self.stdout.write(
                f"  {done - existing}/{wanted - existing} fiches "
                f"({time.monotonic() - started:.0f} s)"
            )
        self.stdout.write(
            f"{name} : {wanted - existing} fiches créées en {time.monotonic() - started:.1f} s."
        )
        return prog
