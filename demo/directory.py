"""The demo's partner directory: the sectors an intersectorial programme works with (a maison
de quartier, a collège, a médico-social service, housing), the people to reach in each
partner organisation, who sits on which body, and the partners of the fiches being prepared —
all through the services, so that the trail shows it. The people are fictional; their
addresses end in ``.example``."""

from __future__ import annotations

from projects.models import Membership, OrganisationKind, Programme, Role
from workflows import services

# Organisations the coordination adds to the CLS's directory: (key, name, sector).
NEW_ORGANISATIONS = [
    ("maison_quartier", "Maison de quartier des Hauts-Prés", OrganisationKind.SOCIAL_CENTRE),
    ("college", "Collège Jean-Jaurès de Bois-Joli", OrganisationKind.EDUCATION),
    ("sessad", "SESSAD Les Tilleuls", OrganisationKind.MEDICO_SOCIAL),
    ("residence", "Résidence sociale Le Relais", OrganisationKind.HOUSING),
]
# Sectors more precise than the ones the organisations were created with.
SECTORS = {
    "centre_social": OrganisationKind.SOCIAL_CENTRE,
    "gem": OrganisationKind.RESIDENTS,
    "cpts": OrganisationKind.CARE,
}
# (organisation, first name, last name, function, e-mail, phone, programmes)
CONTACTS = [
    ("ars", "Mathilde", "Carpentier", "Chargée de mission animation territoriale",
     "mathilde.carpentier@ars-lys.example", "03 20 55 10 01", ("CLS", "CLSM")),
    ("ville", "Olivier", "Dufresne", "Directeur de la santé publique",
     "o.dufresne@lys-sur-marque.example", "03 20 55 20 02", ("CLS", "CLSM")),
    ("agglo", "Sandrine", "Vasseur", "Cheffe de projet politique de la ville",
     "s.vasseur@val-de-lys-agglo.example", "", ("CLS",)),
    ("ccas", "Fabienne", "Leroy", "Directrice du CCAS",
     "f.leroy@ccas-lys.example", "03 20 55 30 03", ("CLS",)),
    ("epsm", "Antoine", "Meunier", "Psychiatre, chef du pôle Val-de-Lys",
     "a.meunier@epsm-vdl.example", "03 20 55 40 04", ("CLSM", "CLS")),
    ("unafam", "Gérard", "Lemaire", "Délégué départemental",
     "", "06 55 50 60 05", ("CLSM",)),
    ("gem", "Yasmina", "Cherif", "Animatrice du GEM",
     "contact@gem-envol.example", "03 20 55 70 06", ("CLSM",)),
    ("bailleur", "Patrice", "Delattre", "Responsable cohésion sociale",
     "p.delattre@habitat-vdl.example", "03 20 55 80 07", ("CLS", "CLSM")),
    ("centre_social", "Nathalie", "Bertin", "Directrice",
     "direction@cs-boisjoli.example", "03 20 55 90 08", ("CLS",)),
    ("prevention", "Kévin", "Morel", "Coordinateur des actions de prévention",
     "k.morel@prevention-lys.example", "", ("CLS",)),
    ("addicto", "Céline", "Dubois", "Infirmière en addictologie",
     "c.dubois@addictions-nordlys.example", "03 20 56 10 09", ("CLS",)),
    ("cpts", "Julie", "Renard", "Présidente, médecin généraliste",
     "presidence@cpts-vdl.example", "", ("CLS",)),
    ("maison_quartier", "Samir", "Benhamou", "Animateur santé",
     "s.benhamou@mq-hautspres.example", "03 20 56 20 10", ("CLS",)),
    ("college", "Isabelle", "Caron", "Infirmière scolaire",
     "infirmerie.jjaures@college-boisjoli.example", "03 20 56 30 11", ("CLS",)),
]  # fmt: skip
# Bodies the people of the demo sit on for their organisation: (username, role, organisation).
SEATS = [
    ("elue", Role.COPIL, "ville"),
    ("copil.ars", Role.COPIL, "ars"),
    ("copil.epsm", Role.COPIL, "epsm"),
    ("porteur.epsm", Role.COTECH, "epsm"),
    ("membre.gt", Role.WG_MEMBER, "centre_social"),
]
# Partners of fiches still being prepared (editable): (title, organisations).
PARTNERS = [
    ("Mois sans tabac — actions de proximité", ("cpts", "centre_social", "maison_quartier")),
    ("Forum annuel de l'accès aux soins", ("cpam", "cpts", "ccas", "college")),
    ("Qualité de l'air intérieur dans les crèches", ("caf", "residence")),
    (
        "Conseil local de santé mentale : relais des SISM dans les communes",
        ("epsm", "unafam", "gem", "sessad"),
    ),
]


def seed(*, cls: Programme, clsm: Programme, users: dict, orgs: dict) -> None:
    coordinator = users["coordinatrice"]
    programmes = {"CLS": cls, "CLSM": clsm}
    orgs = dict(orgs)
    for key, name, kind in NEW_ORGANISATIONS:
        orgs[key] = services.add_organisation(
            programme=cls, actor=coordinator, name=name, kind=kind
        )
    for key, kind in SECTORS.items():
        orgs[key] = services.update_organisation(
            organisation=orgs[key], actor=coordinator, data={"kind": kind}
        )
    for key, first, last, function, email, phone, in_programmes in CONTACTS:
        services.add_contact(
            organisation=orgs[key],
            actor=coordinator,
            data={
                "first_name": first,
                "last_name": last,
                "function": function,
                "email": email,
                "phone": phone,
            },
            programmes=[programmes[p] for p in in_programmes],
        )
    for username, role, key in SEATS:
        for membership in Membership.objects.filter(user=users[username], role=role):
            services.save_structure(membership, actor=coordinator, data={"organisation": orgs[key]})
    for title, keys in PARTNERS:
        fiche = cls.actions.get(title=title)
        services.set_partners(
            action=fiche, actor=coordinator, organisations=[orgs[k] for k in keys]
        )
