"""The partner directory's services: who may add and rename organisations, keep contacts and
set a fiche's partners (every role of the world tried, each attempt in a savepoint: refused ⇒
no row changed, no event written); bad input refused in French with nothing saved; a stale
version refused; and contacts' personal data never in the audit trail, gone everywhere once
erased."""

import pytest
from django.db import connection, transaction

from audit.models import AuditEvent
from directory.models import Contact, Listing
from projects.models import ActionState, Membership, Organisation, OrganisationKind, Role
from reporting import directory
from tests.factories import MembershipFactory, OrganisationFactory, UserFactory
from tests.world import ROLE_USERS, action_in, new_action
from workflows import services

PERSON = {
    "first_name": "Zephyrine",
    "last_name": "Quillebeuf",
    "function": "Cheffe de service prevention",
    "email": "z.quillebeuf@maison-hauts-pres.example",
    "phone": "06 12 34 56 78",
}


def _footprint() -> tuple:
    """What a refused change must leave as it was."""
    return (
        AuditEvent.objects.count(),
        Organisation.objects.count(),
        Listing.objects.count(),
        Contact.objects.count(),
        list(Contact.objects.values_list(*PERSON).order_by("pk")),
        list(Organisation.objects.values_list("name", "kind").order_by("pk")),
        sorted(Contact.programmes.through.objects.values_list("contact", "programme")),
    )


def _refused(call, rule: str) -> services.Refused:
    before = _footprint()
    with pytest.raises(services.Refused) as refusal:
        with transaction.atomic():
            call()
    assert refusal.value.rule == rule, refusal.value.message
    assert _footprint() == before
    return refusal.value


def _contact(world, **data) -> Contact:
    return services.add_contact(
        organisation=world.lead,
        actor=world.coordinator,
        data=PERSON | data,
        programmes=[world.programme],
    )


# --- organisations ---------------------------------------------------------------------------


def test_the_coordination_adds_a_new_organisation_with_its_sector(world):
    organisation = services.add_organisation(
        programme=world.programme,
        actor=world.coordinator,
        name="  Maison de quartier des Hauts-Prés ",
        kind=OrganisationKind.SOCIAL_CENTRE,
    )
    assert organisation.name == "Maison de quartier des Hauts-Prés"
    assert organisation.kind == OrganisationKind.SOCIAL_CENTRE
    assert directory.organisations(world.programme).filter(pk=organisation.pk).exists()
    assert not directory.organisations(world.other_programme).filter(pk=organisation.pk).exists()
    events = AuditEvent.objects.filter(programme=world.programme).order_by("-seq")[:2]
    assert [(e.object_type, e.event) for e in reversed(events)] == [
        ("projects.organisation", "create_structure"),
        ("directory.listing", "create_structure"),
    ]
    assert events[1].changes == {
        "name": [None, "Maison de quartier des Hauts-Prés"],
        "kind": [None, "social_centre"],
    }


def test_an_organisation_known_by_that_name_is_listed_as_it_is(world):
    known = OrganisationFactory(name="Collège Jean-Jaurès", kind=OrganisationKind.EDUCATION)
    added = services.add_organisation(
        programme=world.programme,
        actor=world.coordinator,
        name="collège jean-jaurès",
        kind=OrganisationKind.OTHER,
    )
    assert added == known
    known.refresh_from_db()
    assert known.kind == OrganisationKind.EDUCATION  # not changed by whoever lists it
    refusal = _refused(
        lambda: services.add_organisation(
            programme=world.programme,
            actor=world.coordinator,
            name="Collège Jean-Jaurès",
            kind=OrganisationKind.EDUCATION,
        ),
        "invalid",
    )
    assert refusal.message == "« Collège Jean-Jaurès » est déjà dans l'annuaire du dispositif."
    # The world's lead takes part already (it has an action lead): it is in the directory.
    _refused(
        lambda: services.add_organisation(
            programme=world.programme, actor=world.coordinator, name=world.lead.name, kind="ccas"
        ),
        "invalid",
    )


@pytest.mark.parametrize(
    "name", [u for u in ROLE_USERS if u not in ("coordinator", "coordinator2")]
)
def test_only_the_coordination_keeps_the_directory(world, name):
    user = getattr(world, name)
    _refused(
        lambda: services.add_organisation(
            programme=world.programme, actor=user, name="Nouvelle association", kind="association"
        ),
        "role",
    )
    _refused(
        lambda: services.add_contact(
            organisation=world.lead, actor=user, data=PERSON, programmes=[world.programme]
        ),
        "role",
    )
    contact = _contact(world)
    for call in (
        lambda: services.update_contact(contact=contact, actor=user, data={"function": "X"}),
        lambda: services.erase_contact(contact=contact, actor=user),
        lambda: services.update_organisation(
            organisation=world.lead, actor=user, data={"kind": "other"}
        ),
    ):
        _refused(call, "role")


@pytest.mark.parametrize(
    "name, kind, message",
    [
        ("", "association", "nom : Ce champ ne peut pas être vide."),
        ("Asso\x00ciation", "association", "Le texte contient un caractère nul"),
        ("x" * 201, "association", "nom : Assurez-vous que cette valeur comporte au plus 200"),
        ("Association nouvelle", "pharmacie", "n’est pas un choix valide."),
    ],
)
def test_bad_organisations_are_refused_in_french(world, name, kind, message):
    refusal = _refused(
        lambda: services.add_organisation(
            programme=world.programme, actor=world.coordinator, name=name, kind=kind
        ),
        "invalid",
    )
    assert message in refusal.message


def test_renaming_a_shared_organisation_takes_the_coordination_of_all_its_programmes(world):
    # The world's lead also leads a fiche of the other programme, coordinated by the outsider.
    MembershipFactory(
        user=world.outsider,
        programme=world.other_programme,
        role=Role.ACTION_LEAD,
        organisation=world.lead,
    )
    assert directory.programmes_of([world.lead.pk]) == {
        world.lead.pk: {world.programme.pk, world.other_programme.pk}
    }
    for user in (world.coordinator, world.outsider):
        _refused(
            lambda user=user: services.update_organisation(
                organisation=world.lead, actor=user, data={"name": "CCAS renommé"}
            ),
            "role",
        )
    assert services.renamable(world.coordinator, directory.programmes_of([world.lead.pk])) == set()
    # Who coordinates both may; the change is in both trails.
    MembershipFactory(user=world.coordinator, programme=world.other_programme, role="coordinator")
    services.update_organisation(
        organisation=world.lead,
        actor=world.coordinator,
        data={"name": "CCAS renommé", "kind": OrganisationKind.CCAS},
    )
    for programme in (world.programme, world.other_programme):
        event = AuditEvent.objects.filter(programme=programme).latest("seq")
        assert event.event == "update_structure"
        assert event.changes["name"][1] == "CCAS renommé"
        assert event.changes["kind"] == ["association", "ccas"]


def test_the_administrator_renames_any_organisation_in_use(world):
    admin = UserFactory(username="admin-annuaire", is_superuser=True)
    services.update_organisation(
        organisation=world.funder_org, actor=admin, data={"name": "ARS renommée"}
    )
    assert Organisation.objects.get(pk=world.funder_org.pk).name == "ARS renommée"
    # An organisation no programme uses has no trail to write to: nobody renames it here.
    _refused(
        lambda: services.update_organisation(
            organisation=OrganisationFactory(), actor=admin, data={"name": "Orpheline"}
        ),
        "role",
    )


def test_renaming_from_a_stale_page_is_refused(world):
    services.update_organisation(
        organisation=world.lead, actor=world.coordinator, data={"kind": "ccas"}
    )
    seen = AuditEvent.objects.latest("pk").pk
    services.update_organisation(
        organisation=world.lead, actor=world.coordinator2, data={"kind": "association"}
    )
    refusal = _refused(
        lambda: services.update_organisation(
            organisation=world.lead, actor=world.coordinator, data={"kind": "other"}, seen=seen
        ),
        "already_moved",
    )
    assert "Modifié depuis que vous avez ouvert la page" in refusal.message


# --- contacts --------------------------------------------------------------------------------


def test_a_contact_is_added_and_the_trail_holds_nothing_of_the_person(world):
    contact = _contact(world)
    assert contact.full_name == "Zephyrine Quillebeuf"
    assert list(contact.programmes.all()) == [world.programme]
    event = AuditEvent.objects.latest("pk")
    assert (event.object_type, event.object_id, event.event) == (
        "directory.contact",
        str(contact.pk),
        "create_structure",
    )
    assert event.object_repr == f"Contact n° {contact.pk}"
    assert event.changes == {
        "organisation": [None, world.lead.name],
        "programmes": [None, world.programme.name],
    }
    _no_trace_in_the_trail()


def _no_trace_in_the_trail():
    for event in AuditEvent.objects.all():
        text = f"{event.object_repr} {event.changes} {event.comment}"
        for value in PERSON.values():
            assert value not in text


def test_an_edit_names_the_fields_changed_never_their_values(world):
    contact = _contact(world)
    services.update_contact(
        contact=contact,
        actor=world.coordinator2,
        data={"email": "zq@exemple.example", "phone": "03 20 00 00 00", "function": "Directrice"},
        seen=AuditEvent.objects.latest("pk").pk,
    )
    contact.refresh_from_db()
    assert contact.email == "zq@exemple.example"
    event = AuditEvent.objects.latest("pk")
    assert event.event == "update_structure" and event.changes == {}
    assert event.comment == (
        "Coordonnées modifiées : fonction, courriel professionnel, téléphone professionnel"
    )
    assert "zq@exemple" not in str(event.changes) + event.comment
    # Nothing changed: no event.
    count = AuditEvent.objects.count()
    services.update_contact(
        contact=contact, actor=world.coordinator, data={"function": "Directrice"}
    )
    assert AuditEvent.objects.count() == count


def test_a_contact_for_two_programmes_keeps_the_one_the_actor_does_not_coordinate(world):
    MembershipFactory(user=world.coordinator, programme=world.other_programme, role="coordinator")
    contact = services.add_contact(
        organisation=world.lead,
        actor=world.coordinator,
        data=PERSON,
        programmes=[world.programme, world.other_programme],
    )
    assert AuditEvent.objects.filter(object_id=str(contact.pk)).count() == 2  # both trails
    # The other programme's coordinator may not link it to the world's programme…
    _refused(
        lambda: services.update_contact(
            contact=contact, actor=world.outsider, data={}, programmes=[world.programme]
        ),
        "role",
    )
    # …and unlinking theirs leaves the world's programme.
    services.update_contact(contact=contact, actor=world.outsider, data={}, programmes=[])
    assert list(contact.programmes.all()) == [world.programme]
    assert AuditEvent.objects.latest("pk").changes == {
        "programmes": [
            ", ".join(sorted([world.programme.name, world.other_programme.name])),
            world.programme.name,
        ]
    }
    # A contact shown nowhere could be erased by nobody: at least one programme stays.
    refusal = _refused(
        lambda: services.update_contact(
            contact=contact, actor=world.coordinator, data={}, programmes=[]
        ),
        "invalid",
    )
    assert refusal.errors == {
        "programmes": ["Choisissez au moins un dispositif dont l'annuaire montre ce contact."]
    }


@pytest.mark.parametrize(
    "data, field, message",
    [
        ({"last_name": ""}, "last_name", "Ce champ ne peut pas être vide."),
        ({"first_name": "Zé\x00phyrine"}, None, "Le texte contient un caractère nul"),
        ({"last_name": "Q" * 101}, "last_name", "au plus 100 caractères"),
        ({"function": "F" * 201}, "function", "au plus 200 caractères"),
        ({"email": "pas-un-courriel"}, "email", "Saisissez une adresse e-mail valide."),
        ({"phone": "appelez-moi"}, "phone", "Saisissez un numéro de téléphone"),
        ({"phone": "0" * 31}, "phone", "au plus 30 caractères"),
        ({"email": "", "phone": ""}, "email", "Indiquez un courriel ou un téléphone"),
    ],
)
def test_bad_contacts_are_refused_in_french(world, data, field, message):
    refusal = _refused(
        lambda: services.add_contact(
            organisation=world.lead,
            actor=world.coordinator,
            data=PERSON | data,
            programmes=[world.programme],
        ),
        "invalid",
    )
    assert message in refusal.message
    if field:
        assert any(message in m for m in refusal.errors[field])
    # The same refused on an existing contact, left as it was.
    contact = _contact(world, last_name="Existante", first_name="Personne")
    _refused(
        lambda: services.update_contact(contact=contact, actor=world.coordinator, data=data),
        "invalid",
    )


def test_a_person_is_listed_once_per_organisation(world):
    _contact(world)
    refusal = _refused(
        lambda: _contact(world, first_name="ZEPHYRINE", last_name="quillebeuf"), "invalid"
    )
    assert "Cette personne figure déjà parmi les contacts de l'organisation." in refusal.message
    _refused(
        lambda: services.add_contact(
            organisation=world.lead, actor=world.coordinator, data=PERSON, programmes=[]
        ),
        "invalid",
    )


def test_a_contact_edited_from_a_stale_page_is_refused(world):
    contact = _contact(world)
    seen = AuditEvent.objects.latest("pk").pk
    services.update_contact(contact=contact, actor=world.coordinator2, data={"function": "A"})
    for call in (
        lambda: services.update_contact(
            contact=contact, actor=world.coordinator, data={"function": "B"}, seen=seen
        ),
        lambda: services.erase_contact(contact=contact, actor=world.coordinator, seen=seen),
    ):
        refusal = _refused(call, "already_moved")
        assert "Modification du dispositif" in refusal.message


def _database_text() -> str:
    """Every row of every table of the database, as text (whatever the column's type)."""
    rows = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")
            rows += [" ".join(str(value) for value in row) for row in cursor.fetchall()]
    return "\n".join(rows)


def test_erasing_a_contact_leaves_nothing_of_the_person_anywhere(world):
    MembershipFactory(user=world.coordinator, programme=world.other_programme, role="coordinator")
    contact = services.add_contact(
        organisation=world.lead,
        actor=world.coordinator,
        data=PERSON,
        programmes=[world.programme, world.other_programme],
    )
    services.update_contact(
        contact=contact, actor=world.coordinator, data={"phone": "06 12 34 56 79"}
    )
    services.update_contact(
        contact=contact, actor=world.coordinator, data={"phone": "06 12 34 56 78"}
    )
    other = services.add_contact(
        organisation=world.lead,
        actor=world.coordinator,
        data={"first_name": "Autre", "last_name": "Personne", "email": "autre@exemple.example"},
        programmes=[world.programme],
    )
    text = _database_text()
    for value in PERSON.values():
        assert value in text  # the scan does find them while they are held
    number = services.erase_contact(contact=contact, actor=world.coordinator2)
    assert number == contact.pk
    text = _database_text()
    for value in (*PERSON.values(), "0612345678", "06 12 34 56 79"):
        assert value not in text
        assert value.lower() not in text.lower()
    assert "autre@exemple.example" in text  # the other contact stays
    assert not Contact.objects.filter(pk=number).exists()
    assert Contact.objects.filter(pk=other.pk).exists()
    # Each trail keeps that contact n° N of that organisation was erased, by whom, when.
    for programme in (world.programme, world.other_programme):
        event = AuditEvent.objects.filter(programme=programme).latest("seq")
        assert (event.event, event.object_id, event.object_repr) == (
            "erase_contact",
            str(number),
            f"Contact n° {number}",
        )
        assert event.changes == {"organisation": [world.lead.name, None]}
        assert event.comment.startswith("Effacé à la demande de la personne (RGPD)")
        assert event.actor == world.coordinator2


def test_the_contact_record_holds_everything_about_the_person(world):
    contact = _contact(world)
    services.update_contact(contact=contact, actor=world.coordinator, data={"function": "Autre"})
    record = directory.contact_record(Contact.objects.get(pk=contact.pk))
    assert record["contact"] | {"ajouté le": None, "modifié le": None} == {
        "numéro": contact.pk,
        "prénom": "Zephyrine",
        "nom": "Quillebeuf",
        "fonction": "Autre",
        "courriel professionnel": PERSON["email"],
        "téléphone professionnel": PERSON["phone"],
        "ajouté le": None,
        "modifié le": None,
    }
    assert record["organisation"] == {"nom": world.lead.name, "secteur": "Association"}
    assert record["contact pour les dispositifs"] == [world.programme.name]
    assert [e["événement"] for e in record["journal d'audit"]] == [
        "Ajout au dispositif",
        "Modification du dispositif",
    ]
    assert record["journal d'audit"][1]["commentaire"] == "Coordonnées modifiées : fonction"


# --- a fiche's partners ----------------------------------------------------------------------

EDITORS = {"coordinator", "coordinator2", "action_lead", "wg_member"}


@pytest.mark.parametrize("name", ROLE_USERS)
def test_whoever_may_edit_the_fiche_sets_its_partners(world, name):
    fiche = new_action(world, working_group=world.working_group)
    fiche = services.take_up(action=fiche, actor=world.coordinator)
    assert fiche.state == ActionState.CO_CONSTRUCTION
    partner = OrganisationFactory(name="Centre social Bois-Joli")
    user = getattr(world, name)
    call = lambda: services.set_partners(action=fiche, actor=user, organisations=[partner])  # noqa: E731
    if name not in EDITORS:
        _refused(call, "role")
        return
    call()
    assert list(fiche.partners.all()) == [partner]
    event = AuditEvent.objects.latest("pk")
    assert (event.event, event.action_id, event.changes) == (
        "update",
        fiche.pk,
        {"partners": [None, "Centre social Bois-Joli"]},
    )
    # Now in the programme's directory, as a partner of that fiche.
    assert directory.organisations(world.programme).filter(pk=partner.pk).exists()
    (entry,) = directory.entries(world.programme, [partner])
    assert [f.pk for f in entry.partners] == [fiche.pk]


def test_partners_are_set_while_the_fiche_is_prepared(world):
    fiche = action_in(world, ActionState.VALIDATED)
    refusal = _refused(
        lambda: services.set_partners(
            action=fiche, actor=world.coordinator, organisations=[OrganisationFactory()]
        ),
        "state",
    )
    assert "Modifier la fiche" in refusal.message


def test_the_lead_is_not_its_own_partner_and_a_stale_fiche_is_refused(world):
    fiche = new_action(world)
    refusal = _refused(
        lambda: services.set_partners(
            action=fiche, actor=world.coordinator, organisations=[world.lead]
        ),
        "invalid",
    )
    assert refusal.errors == {"partners": ["Le porteur de la fiche n'en est pas aussi partenaire."]}
    seen = AuditEvent.objects.filter(action_id=fiche.pk).latest("pk").pk
    services.update_action(action=fiche, actor=world.coordinator, data={"territory": "QPV"})
    _refused(
        lambda: services.set_partners(
            action=fiche, actor=world.coordinator, organisations=[world.funder_org], seen=seen
        ),
        "already_moved",
    )
    # Setting the same partners again writes nothing.
    services.set_partners(action=fiche, actor=world.coordinator, organisations=[world.funder_org])
    count = AuditEvent.objects.count()
    services.set_partners(action=fiche, actor=world.coordinator, organisations=[world.funder_org])
    assert AuditEvent.objects.count() == count


def test_the_directory_lists_every_way_of_taking_part(world):
    action = action_in(world, ActionState.FUNDING)  # led by the lead, funded by the funder org
    signatory = OrganisationFactory(name="Préfecture")
    world.programme.signatories.add(signatory)
    seated = OrganisationFactory(name="Ville")
    Membership.objects.create(
        user=world.copil, programme=world.programme, role=Role.COPIL, organisation=seated
    )
    ended = OrganisationFactory(name="Ancienne")
    Membership.objects.create(
        user=world.cotech,
        programme=world.programme,
        role=Role.COTECH,
        organisation=ended,
        is_active=False,
    )
    listed = services.add_organisation(
        programme=world.programme, actor=world.coordinator, name="Collège", kind="education"
    )
    found = set(directory.organisations(world.programme))
    assert {world.lead, world.funder_org, signatory, seated, listed} <= found
    assert ended not in found
    entries = {e.organisation: e for e in directory.entries(world.programme, found)}
    assert [f.pk for f in entries[world.lead].leads] == [action.pk]
    assert [g.fiche.pk for g in entries[world.funder_org].grants] == [action.pk]
    assert entries[signatory].signatory
    assert [(s.label, s.people) for s in entries[seated].seats] == [
        ("Comité de pilotage (COPIL)", 1)
    ]
    assert entries[listed].listed
