"""The partner directory's pages: every member of the programme reads it and its workbook, its
coordination keeps it (403 for the other members), outside the programme everything is a 404
and an anonymous visitor logs in first; a fiche's partners are set from the fiche by whoever
may edit it; bad input on every form is a French message with nothing saved; a stale page is
refused; the workbook never turns text into a formula; a contact's data is exported, then
erased from every table; and the number of queries does not grow with the organisations."""

import io
import json
from html import unescape

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from audit import chain
from audit.models import AuditEvent
from directory.models import Contact, Listing
from projects.models import ActionState, Organisation, OrganisationKind, Role
from tests.factories import MembershipFactory, OrganisationFactory
from tests.web.test_hostile_input import HOSTILE, forms_of
from tests.world import ROLE_USERS, action_in, new_action
from workflows import services

PERSON = {
    "first_name": "Zephyrine",
    "last_name": "Quillebeuf",
    "function": "Cheffe de service prevention",
    "email": "z.quillebeuf@maison-hauts-pres.example",
    "phone": "06 12 34 56 78",
}
MEMBERS = [u for u in ROLE_USERS if u != "outsider"]
NOT_KEEPERS = [u for u in MEMBERS if u not in ("coordinator", "coordinator2")]


@pytest.fixture
def contact(world):
    return services.add_contact(
        organisation=world.lead,
        actor=world.coordinator,
        data=PERSON,
        programmes=[world.programme],
    )


def _text(response) -> str:
    return unescape(response.content.decode()).replace("’", "'").replace("\xa0", " ")


def _read_urls(world) -> list[str]:
    p = world.programme.pk
    return [reverse("coordo:directory", args=[p]), reverse("coordo:directory-export", args=[p])]


def _keep_urls(world, contact) -> list[str]:
    p = world.programme.pk
    return [
        reverse("coordo:directory-organisation-add", args=[p]),
        reverse("coordo:directory-organisation-edit", args=[p, world.lead.pk]),
        reverse("coordo:directory-contact-add", args=[p, world.lead.pk]),
        reverse("coordo:directory-contact-edit", args=[p, contact.pk]),
        reverse("coordo:directory-contact-data", args=[p, contact.pk]),
        reverse("coordo:directory-contact-erase", args=[p, contact.pk]),
    ]


def _footprint() -> tuple:
    return (
        AuditEvent.objects.count(),
        list(Organisation.objects.values_list("name", "kind").order_by("pk")),
        Listing.objects.count(),
        list(Contact.objects.values_list(*PERSON).order_by("pk")),
        sorted(Contact.programmes.through.objects.values_list("contact", "programme")),
    )


def test_urls(world, contact):
    p = world.programme.pk
    assert reverse("coordo:directory", args=[p]) == f"/coordo/dispositifs/{p}/partenaires/"
    assert reverse("coordo:directory-export", args=[p]).endswith("/partenaires/annuaire.xlsx")
    assert reverse("coordo:action-partners", args=[7]) == "/coordo/actions/7/partenaires/"


@pytest.mark.parametrize("name", MEMBERS)
def test_every_member_reads_the_directory(client, world, contact, name):
    client.force_login(getattr(world, name))
    response = client.get(reverse("coordo:directory", args=[world.programme.pk]))
    assert response.status_code == 200
    page = _text(response)
    for text in (world.lead.name, world.funder_org.name, "Zephyrine Quillebeuf", PERSON["email"]):
        assert text in page
    assert 'href="mailto:z.quillebeuf@maison-hauts-pres.example"' in page
    assert 'href="tel:0612345678"' in page
    keeps = name in ("coordinator", "coordinator2")
    assert ("Exporter ses données" in page) is keeps
    assert ("Ajouter une organisation à l'annuaire" in page) is keeps
    export = client.get(reverse("coordo:directory-export", args=[world.programme.pk]))
    assert export.status_code == 200


def test_an_organisation_s_long_lists_name_ten_fiches_and_count_the_others(
    client, world, monkeypatch
):
    from web.views import directory as directory_views

    monkeypatch.setattr(directory_views, "SHOWN", 2)
    titles = ["Atelier A", "Atelier B", "Atelier C"]
    for title in titles:
        new_action(world, title=title)  # all led by world.lead
    client.force_login(world.copil)
    page = _text(client.get(reverse("coordo:directory", args=[world.programme.pk])))
    assert "Atelier A" in page and "Atelier B" in page
    assert "Atelier C" not in page
    export = reverse("coordo:directory-export", args=[world.programme.pk])
    assert f'… et 1 autre · <a href="{export}">toutes dans l\'annuaire (xlsx)</a>' in page
    book = _workbook(client, world)
    cells = " ".join(str(c.value) for row in book.worksheets[0].iter_rows() for c in row)
    assert all(title in cells for title in titles)


def test_the_programme_page_links_to_the_directory(client, world):
    client.force_login(world.ars_referent)
    page = client.get(reverse("coordo:programme", args=[world.programme.pk])).content.decode()
    assert f'href="{reverse("coordo:directory", args=[world.programme.pk])}"' in page


def test_outside_the_programme_everything_is_a_404(client, world, contact):
    fiche = new_action(world)
    client.force_login(world.outsider)  # coordinates another programme
    before = _footprint()
    for url in _read_urls(world) + _keep_urls(world, contact):
        assert client.get(url).status_code == 404, url
        assert client.post(url, PERSON | {"name": "X", "kind": "other"}).status_code == 404, url
    # Nor through their own programme: the contact and the organisation are not theirs.
    other = world.other_programme.pk
    for url in (
        reverse("coordo:directory-contact-edit", args=[other, contact.pk]),
        reverse("coordo:directory-contact-data", args=[other, contact.pk]),
        reverse("coordo:directory-contact-erase", args=[other, contact.pk]),
        reverse("coordo:directory-organisation-edit", args=[other, world.lead.pk]),
        reverse("coordo:directory-contact-add", args=[other, world.lead.pk]),
    ):
        assert client.get(url).status_code == 404, url
    assert client.post(reverse("coordo:action-partners", args=[fiche.pk])).status_code == 404
    assert _footprint() == before


def test_anonymous_visitors_log_in_first(client, world, contact):
    for url in _read_urls(world) + _keep_urls(world, contact):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/comptes/login/")


@pytest.mark.parametrize("name", NOT_KEEPERS)
def test_only_the_coordination_keeps_the_directory(client, world, contact, name):
    client.force_login(getattr(world, name))
    before = _footprint()
    data = PERSON | {
        "name": "Nouvelle",
        "kind": "other",
        "new-name": "Nouvelle",
        "new-kind": "other",
        "programmes": [world.programme.pk],
        "seen_version": "999999",
    }
    for url in _keep_urls(world, contact):
        assert client.get(url).status_code == 403, url
        assert client.post(url, data).status_code == 403, url
    assert _footprint() == before


# --- the coordination's forms ------------------------------------------------------------------


def test_the_coordination_adds_and_renames_an_organisation(client, world):
    client.force_login(world.coordinator)
    p = world.programme.pk
    response = client.post(
        reverse("coordo:directory-organisation-add", args=[p]),
        {"new-name": "Maison de quartier des Hauts-Prés", "new-kind": "social_centre"},
        follow=True,
    )
    assert "« Maison de quartier des Hauts-Prés » ajoutée à l'annuaire" in _text(response)
    organisation = Organisation.objects.get(name="Maison de quartier des Hauts-Prés")
    url = reverse("coordo:directory-organisation-edit", args=[p, organisation.pk])
    page = client.get(url)
    assert page.status_code == 200
    assert 'value="Maison de quartier des Hauts-Prés"' in page.content.decode()
    version = chain.version(organisation)
    response = client.post(
        url, {"name": "Maison de quartier", "kind": "social_centre", "seen_version": version}
    )
    assert response.status_code == 302
    organisation.refresh_from_db()
    assert organisation.name == "Maison de quartier"
    # The same page again, now stale: refused, nothing saved.
    response = client.post(
        url, {"name": "Autre nom", "kind": "social_centre", "seen_version": version}
    )
    assert response.status_code == 400
    assert "Modifié depuis que vous avez ouvert la page" in _text(response)
    organisation.refresh_from_db()
    assert organisation.name == "Maison de quartier"


def test_a_shared_organisation_is_renamed_by_the_coordination_of_all(client, world):
    MembershipFactory(
        user=world.outsider,
        programme=world.other_programme,
        role=Role.FUNDER,
        organisation=world.lead,
    )
    client.force_login(world.coordinator)
    url = reverse("coordo:directory-organisation-edit", args=[world.programme.pk, world.lead.pk])
    response = client.get(url)
    assert response.status_code == 403
    assert "prend part à d'autres dispositifs que vous ne coordonnez pas" in _text(response)
    page = _text(client.get(reverse("coordo:directory", args=[world.programme.pk])))
    assert "Partagée avec d'autres dispositifs" in page
    assert url not in page


def test_the_coordination_adds_edits_exports_and_erases_a_contact(client, world):
    client.force_login(world.coordinator)
    p = world.programme.pk
    add = reverse("coordo:directory-contact-add", args=[p, world.lead.pk])
    page = client.get(add).content.decode()
    assert f'value="{p}"' in page and "checked" in page  # for this programme by default
    assert f'value="{world.other_programme.pk}"' not in page  # not theirs
    response = client.post(add, PERSON | {"programmes": [p]})
    assert response.status_code == 302
    contact = Contact.objects.get(last_name="Quillebeuf")
    edit = reverse("coordo:directory-contact-edit", args=[p, contact.pk])
    assert 'value="Zephyrine"' in client.get(edit).content.decode()
    version = chain.version(contact)
    response = client.post(
        edit, PERSON | {"function": "Directrice", "programmes": [p], "seen_version": version}
    )
    assert response.status_code == 302
    contact.refresh_from_db()
    assert contact.function == "Directrice"
    stale = client.post(
        edit, PERSON | {"function": "Autre", "programmes": [p], "seen_version": version}
    )
    assert stale.status_code == 400
    assert "Modifié depuis que vous avez ouvert la page" in _text(stale)
    assert Contact.objects.get(pk=contact.pk).function == "Directrice"

    data = client.get(reverse("coordo:directory-contact-data", args=[p, contact.pk]))
    assert data.status_code == 200
    assert data["Content-Type"] == "application/json; charset=utf-8"
    assert data["Content-Disposition"].startswith("attachment; filename=")
    record = json.loads(data.content)
    assert record["contact"]["courriel professionnel"] == PERSON["email"]
    assert record["contact"]["fonction"] == "Directrice"
    assert record["organisation"]["nom"] == world.lead.name
    assert record["contact pour les dispositifs"] == [world.programme.name]
    assert len(record["journal d'audit"]) == 2

    erase = reverse("coordo:directory-contact-erase", args=[p, contact.pk])
    confirm = _text(client.get(erase))
    assert "Zephyrine Quillebeuf" in confirm and "C'est définitif" in confirm
    response = client.post(erase, {"seen_version": chain.version(contact)}, follow=True)
    assert f"Contact n° {contact.pk} effacé" in _text(response)
    assert not Contact.objects.filter(pk=contact.pk).exists()
    text = _database_text()
    for value in (*PERSON.values(), "Directrice", "0612345678"):
        assert value not in text
    # A second click: the contact is gone, said so.
    again = client.post(erase, {"seen_version": "0"}, follow=True)
    assert "Ce contact n'est plus dans l'annuaire." in _text(again)
    assert client.get(erase).status_code == 404


def _database_text() -> str:
    """Every row of every table, as text."""
    rows = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")
            rows += [" ".join(str(value) for value in row) for row in cursor.fetchall()]
    return "\n".join(rows)


def test_erasing_from_a_stale_page_is_refused(client, world, contact):
    client.force_login(world.coordinator)
    url = reverse("coordo:directory-contact-erase", args=[world.programme.pk, contact.pk])
    seen = chain.version(contact)
    services.update_contact(contact=contact, actor=world.coordinator2, data={"function": "X"})
    response = client.post(url, {"seen_version": seen}, follow=True)
    assert "Modifié depuis que vous avez ouvert la page" in _text(response)
    assert Contact.objects.filter(pk=contact.pk).exists()


TOO_LONG = "x" * 201


@pytest.mark.parametrize(
    "data, message",
    [
        ({"new-name": "", "new-kind": "association"}, "Ce champ est obligatoire."),
        (
            {"new-name": "Asso\x00", "new-kind": "association"},
            "Le caractère nul n'est pas autorisé.",
        ),
        ({"new-name": TOO_LONG, "new-kind": "association"}, "au plus 200 caractères"),
        ({"new-name": "Asso", "new-kind": "pharmacie"}, "Sélectionnez un choix valide"),
        ({"new-name": "Asso", "new-kind": ""}, "Ce champ est obligatoire."),
    ],
)
def test_bad_organisations_are_refused(client, world, data, message):
    client.force_login(world.coordinator)
    before = _footprint()
    for url, posted in (
        (reverse("coordo:directory-organisation-add", args=[world.programme.pk]), data),
        (
            reverse("coordo:directory-organisation-edit", args=[world.programme.pk, world.lead.pk]),
            {"name": data["new-name"], "kind": data["new-kind"], "seen_version": "0"},
        ),
    ):
        response = client.post(url, posted)
        assert response.status_code == 400
        assert message in _text(response)
    assert _footprint() == before


@pytest.mark.parametrize(
    "data, message",
    [
        ({"last_name": ""}, "Ce champ est obligatoire."),
        ({"first_name": "Zé\x00"}, "Le caractère nul n'est pas autorisé."),
        ({"last_name": "Q" * 101}, "au plus 100 caractères"),
        ({"function": TOO_LONG}, "au plus 200 caractères"),
        ({"email": "pas-un-courriel"}, "Saisissez une adresse e-mail valide."),
        ({"email": "z@" + "x" * 260 + ".fr"}, "Saisissez une adresse e-mail valide."),
        ({"phone": "appelez-moi"}, "Saisissez un numéro de téléphone"),
        ({"email": "", "phone": ""}, "Indiquez un courriel ou un téléphone professionnel."),
        ({"programmes": []}, "Choisissez au moins un dispositif."),
        ({"programmes": ["999999"]}, "Sélectionnez un choix valide"),
        ({"programmes": ["abc"]}, "« abc » n'est pas une valeur correcte"),
    ],
)
def test_bad_contacts_are_refused(client, world, contact, data, message):
    client.force_login(world.coordinator)
    p = world.programme.pk
    before = _footprint()
    for url in (
        reverse("coordo:directory-contact-add", args=[p, world.funder_org.pk]),
        reverse("coordo:directory-contact-edit", args=[p, contact.pk]),
    ):
        posted = PERSON | {"programmes": [p], "seen_version": chain.version(contact)} | data
        response = client.post(url, posted)
        assert response.status_code == 400, url
        assert message in _text(response)
    assert _footprint() == before


def test_no_hostile_value_in_any_field_makes_a_server_error(client, world, contact):
    client.force_login(world.coordinator)
    client.raise_request_exception = False
    fiche = new_action(world)
    errors, tried = [], 0
    pages = [
        reverse("coordo:directory", args=[world.programme.pk]),
        reverse("coordo:directory-contact-add", args=[world.programme.pk, world.lead.pk]),
        reverse("coordo:directory-contact-edit", args=[world.programme.pk, contact.pk]),
        reverse("coordo:directory-organisation-edit", args=[world.programme.pk, world.lead.pk]),
        reverse("coordo:action", args=[fiche.pk]),
    ]
    for page in pages:
        for form in forms_of(client, page):
            if form["action"] in (reverse("logout"), reverse("set_language")):
                continue
            if form["action"].endswith("/effacer/"):
                continue  # erasing succeeds with anything; tried above
            for name in form["fields"]:
                if name in ("csrfmiddlewaretoken", "language", "next"):
                    continue
                for value in HOSTILE:
                    send = client.post if form["method"] == "post" else client.get
                    response = send(form["action"], {**form["fields"], name: value})
                    tried += 1
                    if response.status_code >= 500:
                        errors.append((page, form["action"], name, value[:30]))
    assert tried > 300
    assert errors == []


# --- a fiche's partners, from the fiche ---------------------------------------------------------

EDITORS = ("coordinator", "coordinator2", "action_lead", "wg_member")


@pytest.mark.parametrize("name", MEMBERS)
def test_partners_are_set_from_the_fiche_by_who_may_edit_it(client, world, name):
    fiche = services.take_up(
        action=new_action(world, working_group=world.working_group), actor=world.coordinator
    )
    partner = OrganisationFactory(name="Centre social Bois-Joli")
    services.add_organisation(
        programme=world.programme, actor=world.coordinator, name=partner.name, kind="association"
    )
    client.force_login(getattr(world, name))
    page = client.get(reverse("coordo:action", args=[fiche.pk])).content.decode()
    url = reverse("coordo:action-partners", args=[fiche.pk])
    assert (url in page) is (name in EDITORS)
    if name in EDITORS:
        form = page[page.index(f'action="{url}"') :]
        assert "Centre social Bois-Joli" in form[: form.index("</form>")]
        assert f'value="{world.lead.pk}"' not in form[: form.index("</form>")]  # the lead
    before = _footprint()
    response = client.post(
        url, {"partners": [partner.pk], "seen_version": chain.version(fiche)}, follow=True
    )
    if name not in EDITORS:
        assert response.status_code == 403
        assert _footprint() == before
        return
    assert "Partenaires de la fiche enregistrés." in _text(response)
    assert list(fiche.partners.all()) == [partner]
    assert "Centre social Bois-Joli" in _text(response)


@pytest.mark.parametrize(
    "partners, message",
    [
        (["999999"], "Partenaires : Sélectionnez un choix valide."),
        (["abc"], "Partenaires : « abc » n'est pas une valeur correcte."),
        (["1\x00"], "Partenaires : "),
        ("lead", "Partenaires : Sélectionnez un choix valide."),  # not offered
        ("outside", "Partenaires : Sélectionnez un choix valide."),  # not in the directory
    ],
)
def test_bad_partners_are_refused(client, world, partners, message):
    fiche = new_action(world)
    if partners == "lead":
        partners = [world.lead.pk]
    elif partners == "outside":
        partners = [OrganisationFactory().pk]
    client.force_login(world.coordinator)
    before = _footprint()
    response = client.post(
        reverse("coordo:action-partners", args=[fiche.pk]),
        {"partners": partners, "seen_version": chain.version(fiche)},
        follow=True,
    )
    assert message in _text(response)
    assert _footprint() == before and not fiche.partners.exists()


def test_partners_from_a_stale_fiche_or_a_closed_one(client, world):
    fiche = new_action(world)
    seen = chain.version(fiche)
    services.update_action(action=fiche, actor=world.coordinator2, data={"territory": "QPV"})
    client.force_login(world.coordinator)
    url = reverse("coordo:action-partners", args=[fiche.pk])
    response = client.post(
        url, {"partners": [world.funder_org.pk], "seen_version": seen}, follow=True
    )
    assert "Modifié depuis que vous avez ouvert la page" in _text(response)
    assert not fiche.partners.exists()
    validated = action_in(world, ActionState.VALIDATED)
    page = client.get(reverse("coordo:action", args=[validated.pk])).content.decode()
    assert reverse("coordo:action-partners", args=[validated.pk]) not in page
    response = client.post(
        reverse("coordo:action-partners", args=[validated.pk]),
        {"partners": [world.funder_org.pk], "seen_version": chain.version(validated)},
        follow=True,
    )
    assert "n'est possible qu'à l'état" in _text(response)
    assert not validated.partners.exists()


# --- filters, workbook, queries --------------------------------------------------------------


def test_filters_by_sector_and_search(client, world, contact):
    college = services.add_organisation(
        programme=world.programme, actor=world.coordinator, name="Collège Jaurès", kind="education"
    )
    client.force_login(world.copil)
    url = reverse("coordo:directory", args=[world.programme.pk])
    page = _text(client.get(url, {"secteur": "education"}))
    assert "Collège Jaurès" in page and world.lead.name not in page
    assert '<option value="education" selected>' in page
    page = _text(client.get(url, {"q": "quilleb"}))  # a contact's name
    assert world.lead.name in page and "Collège Jaurès" not in page
    page = _text(client.get(url, {"q": "jaur"}))
    assert "Collège Jaurès" in page and world.lead.name not in page
    assert college


@pytest.mark.parametrize(
    "query, message",
    [
        ("secteur=pharmacie", "Secteur : Sélectionnez un choix valide."),
        ("secteur=%00", "Secteur : Sélectionnez un choix valide."),
        ("q=%00", "Recherche : "),
        ("q=" + "x" * 201, "Recherche : Assurez-vous que cette valeur comporte au plus 200"),
    ],
)
def test_bad_filters_are_a_clear_400(client, world, query, message):
    client.force_login(world.copil)
    for url in _read_urls(world):
        response = client.get(f"{url}?{query}")
        assert response.status_code == 400
        assert response["Content-Type"].startswith("text/html")
        assert message in _text(response)


def _workbook(client, world, **params):
    response = client.get(reverse("coordo:directory-export", args=[world.programme.pk]), params)
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith('attachment; filename="annuaire-partenaires')
    return load_workbook(io.BytesIO(b"".join(response.streaming_content)))


def test_the_workbook(client, world, contact):
    funded = action_in(world, ActionState.FUNDING)
    partnered = new_action(world)
    services.set_partners(
        action=partnered, actor=world.coordinator, organisations=[world.funder_org]
    )
    payload = '=HYPERLINK("http://exemple.invalid","Cliquez")'
    services.add_contact(
        organisation=world.funder_org,
        actor=world.coordinator,
        data={
            "first_name": "+33",
            "last_name": payload,
            "function": "@SUM(A1)",
            "phone": "03 20 00 00 00",
        },
        programmes=[world.programme],
    )
    client.force_login(world.ars_referent)
    book = _workbook(client, world)
    assert book.sheetnames == ["Organisations", "Contacts", "Fiches et partenaires"]
    organisations = [[c.value for c in row] for row in book["Organisations"].iter_rows()]
    assert organisations[0] == [
        "Organisation",
        "Secteur",
        "Signataire du contrat",
        "Porte les fiches",
        "Finance les fiches",
        "Partenaire des fiches",
        "Instances",
        "Contacts",
    ]
    by_name = {row[0]: row for row in organisations[1:]}
    assert funded.title in by_name[world.lead.name][3]
    assert f"{funded.title} (FIR 2026, Accordée)" in by_name[world.funder_org.name][4]
    assert partnered.title in by_name[world.funder_org.name][5]
    assert by_name[world.lead.name][7] == 1
    contacts = book["Contacts"]
    rows = [[c.value for c in row] for row in contacts.iter_rows()]
    assert rows[0] == [
        "Organisation",
        "Secteur",
        "Nom",
        "Prénom",
        "Fonction",
        "Courriel professionnel",
        "Téléphone professionnel",
    ]
    assert [
        world.lead.name,
        "Association",
        "Quillebeuf",
        "Zephyrine",
        PERSON["function"],
        PERSON["email"],
        PERSON["phone"],
    ] in rows
    cells = {c.value: c for r in contacts.iter_rows(min_row=2) for c in r if c.value}
    for text in (payload, "+33", "@SUM(A1)"):
        assert cells[text].data_type == "s"  # text, never a formula
    fiches = [[c.value for c in row] for row in book["Fiches et partenaires"].iter_rows()]
    roles = {(row[0], row[1], row[2]) for row in fiches[1:]}
    assert (world.lead.name, "Porteur", funded.title) in roles
    assert (world.funder_org.name, "Financeur", funded.title) in roles
    assert (world.funder_org.name, "Partenaire", partnered.title) in roles
    # The page's filters select the same organisations.
    book = _workbook(client, world, secteur="ars")
    names = [r[0].value for r in book["Organisations"].iter_rows(min_row=2)]
    assert names == [world.funder_org.name, "Total"]


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
        if hasattr(response, "streaming_content"):
            b"".join(response.streaming_content)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def _busy_organisations(world, n: int) -> None:
    """``n`` more organisations taking part in every way, each with two contacts."""
    for i in range(n):
        org = OrganisationFactory(kind=OrganisationKind.EDUCATION)
        MembershipFactory(
            programme=world.programme,
            role=Role.COPIL,
            organisation=org,
            user__username=f"s{org.pk}",
        )
        MembershipFactory(
            programme=world.programme,
            role=Role.WG_MEMBER,
            organisation=org,
            working_group=world.working_group,
            user__username=f"g{org.pk}",
        )
        world.programme.signatories.add(org)
        fiche = new_action(world, lead_organisation=org)
        services.set_partners(action=fiche, actor=world.coordinator, organisations=[world.lead])
        services.create_funding_request(
            action=fiche,
            actor=world.coordinator,
            funder_id=org.pk,
            scheme=f"Fonds {i}",
            year=2026,
            requested_amount=1000,
        )
        for who in ("Ana", "Bea"):
            services.add_contact(
                organisation=org,
                actor=world.coordinator,
                data={"first_name": who, "last_name": f"N{i}", "email": f"{who}{i}@x.example"},
                programmes=[world.programme],
            )


@pytest.mark.parametrize("name", ["coordinator", "copil"])
def test_queries_do_not_grow_with_the_organisations(client, world, contact, name):
    client.force_login(getattr(world, name))
    page = reverse("coordo:directory", args=[world.programme.pk])
    export = reverse("coordo:directory-export", args=[world.programme.pk])
    _busy_organisations(world, 2)
    few = (_queries(client, page), _queries(client, export))
    _busy_organisations(world, 6)
    assert (_queries(client, page), _queries(client, export)) == few
    fiche = new_action(world, title="Avec partenaires")
    fiche_page = reverse("coordo:action", args=[fiche.pk])
    before = _queries(client, fiche_page)
    _busy_organisations(world, 2)
    assert _queries(client, fiche_page) == before
