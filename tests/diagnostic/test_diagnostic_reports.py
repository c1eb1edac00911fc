"""What the diagnostic adds to the reports: the dashboard and the annual report name the
findings no fiche answers yet and the fiches answering no finding; the report and its
workbook list, per scheme and objective, the fiches contributing with their state and planned
budget; and a CLS linked to its CLSM shows, on each programme's page, the other's fiches on a
shared theme (titles only to the other programme's members)."""

import datetime
import io
from decimal import Decimal
from html import unescape

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from diagnostic.models import Theme
from projects.models import ActionState, Role
from reporting import diagnostic as figures
from tests.factories import MembershipFactory
from tests.world import new_action
from workflows import services as all_services
from workflows.services import diagnostic as services


def _text(response) -> str:
    return unescape(response.content.decode()).replace("’", "'").replace("\xa0", " ")


def _diagnostic(programme, actor, findings):
    services.save_diagnostic(
        programme=programme,
        actor=actor,
        data={"date": datetime.date(2023, 6, 15), "authors": "ORS"},
    )
    return [
        services.add_finding(
            programme=programme,
            actor=actor,
            data={"title": title, "theme": theme, "determinant": "care"},
            actions=actions,
        )
        for title, theme, actions in findings
    ]


@pytest.fixture
def covered(world):
    answering = new_action(world, title="Permanences santé en QPV")
    all_services.add_budget_line(
        action=answering,
        actor=world.coordinator,
        year=2026,
        category="staff",
        planned=Decimal("12000"),
    )
    lonely = new_action(world, title="Forum de l'accès aux soins")
    declined = new_action(world, title="Proposition non retenue")
    all_services.transition(declined, "decline", actor=world.coordinator, comment="Hors champ")
    _diagnostic(
        world.programme,
        world.coordinator,
        [
            ("Renoncement aux soins en QPV", Theme.ACCESS, [answering]),
            ("Alcoolisations des jeunes", Theme.ADDICTIONS, [declined]),
        ],
    )
    scheme = services.add_scheme(
        programme=world.programme,
        actor=world.coordinator,
        kind="city",
        name="Contrat de ville Engagements Quartiers 2030",
    )
    objective = services.add_scheme_objective(
        scheme=scheme, actor=world.coordinator, title="Pilier cohésion sociale — santé"
    )
    services.add_scheme_objective(scheme=scheme, actor=world.coordinator, title="Pilier emploi")
    services.set_fiche_links(
        action=answering,
        actor=world.coordinator,
        findings=list(answering.findings.all()),
        scheme_objectives=[objective],
    )
    return {"answering": answering, "lonely": lonely, "declined": declined}


def test_coverage_names_the_gaps(world, covered):
    cover = figures.coverage(world.programme)
    # A finding answered only by a declined fiche has no fiche yet; a declined fiche counts
    # nowhere.
    assert [f.title for f in cover.findings_without_fiche] == ["Alcoolisations des jeunes"]
    assert [a.title for a in cover.fiches_without_finding.first] == ["Forum de l'accès aux soins"]
    assert (cover.findings, cover.answered, cover.fiches, cover.fiches_answering) == (2, 1, 2, 1)


def test_the_dashboard_and_the_annual_report_show_the_gaps(client, world, covered):
    client.force_login(world.ars_referent)
    for url in (
        reverse("coordo:dashboard", args=[world.programme.pk]),
        reverse("coordo:annual-report", args=[world.programme.pk, 2026]),
    ):
        text = _text(client.get(url))
        assert "Constats sans fiche" in text and "Alcoolisations des jeunes" in text
        assert "Fiches ne répondant à aucun constat" in text
        assert "Forum de l'accès aux soins" in text
        assert "Constats du diagnostic auxquels répond au moins une fiche : 1 sur 2." in text


def test_the_dashboard_names_ten_gaps_the_report_and_the_diagnostic_page_all(
    client, world, covered
):
    """A dashboard stays short (and as fast) with years of fiches: ten of each list, the
    others counted, with the way to the full list; the report keeps every one."""
    for n in range(12):
        new_action(world, title=f"Fiche sans constat {n:02d}")
    client.force_login(world.copil)
    dashboard = _text(client.get(reverse("coordo:dashboard", args=[world.programme.pk])))
    assert dashboard.count("Fiche sans constat") == 9  # with « Forum… » first: ten in all
    assert "… et 3 autres" in dashboard
    assert reverse("coordo:diagnostic", args=[world.programme.pk]) in dashboard
    assert "Fiches répondant à au moins un constat : 1 sur 14." in dashboard
    for url in (
        reverse("coordo:annual-report", args=[world.programme.pk, 2026]),
        reverse("coordo:diagnostic", args=[world.programme.pk]),
    ):
        text = _text(client.get(url))
        assert text.count("Fiche sans constat") == 12 and "… et " not in text


def test_the_annual_report_shows_the_contribution_to_other_schemes(client, world, covered):
    client.force_login(world.copil)
    text = _text(client.get(reverse("coordo:annual-report", args=[world.programme.pk, 2026])))
    assert "Contribution aux autres démarches" in text
    assert "Contrat de ville Engagements Quartiers 2030" in text
    assert "Pilier cohésion sociale — santé" in text
    assert "Permanences santé en QPV" in text and "12 000,00 €" in text
    assert "Pilier emploi" in text and "Aucune fiche pour l'instant." in text


def test_the_workbook_has_the_same_sections(client, world, covered):
    client.force_login(world.copil)
    response = client.get(reverse("coordo:annual-report-xlsx", args=[world.programme.pk, 2026]))
    workbook = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    rows = list(workbook["Contribution aux démarches"].values)
    assert rows[0][:7] == (
        "Démarche",
        "Nature",
        "Objectif ou axe",
        "N° fiche",
        "Fiche action",
        "État",
        "Budget prévisionnel",
    )
    fiche = covered["answering"]
    assert (
        "Contrat de ville Engagements Quartiers 2030",
        "Contrat de ville / Engagements Quartiers 2030",
        "Pilier cohésion sociale — santé",
        fiche.pk,
        fiche.title,
        fiche.get_state_display(),
        12000,
    ) in [r[:7] for r in rows]
    assert any(r[2] == "Pilier emploi" and r[3] is None for r in rows)
    findings = list(workbook["Diagnostic – constats"].values)
    assert ("Renoncement aux soins en QPV", "Accès aux droits et aux soins") == findings[1][:2]
    assert findings[1][8] == 1 and findings[2][8] == 0
    lonely = list(workbook["Fiches sans constat"].values)
    assert [r[1] for r in lonely[1:] if r[1]] == ["Forum de l'accès aux soins"]


@pytest.fixture
def linked(world, covered):
    """The world's programme (a CLS) linked to another (its CLSM), with fiches of the same
    theme on both sides."""
    other = world.other_programme
    MembershipFactory(user=world.coordinator, programme=other, role=Role.COORDINATOR)
    theirs = all_services.create_action(
        programme=other, actor=world.coordinator, data={"title": "Cellule accès aux soins"}
    )
    unrelated = all_services.create_action(
        programme=other, actor=world.coordinator, data={"title": "SISM 2026"}
    )
    _diagnostic(
        other,
        world.coordinator,
        [
            ("Accès tardif aux soins psychiatriques", Theme.ACCESS, [theirs]),
            ("Stigmatisation", Theme.MENTAL_HEALTH, [unrelated]),
        ],
    )
    services.link_programmes(programme=other, other=world.programme, actor=world.coordinator)
    return {"theirs": theirs, "unrelated": unrelated}


def test_linked_programmes_show_each_others_fiches_on_a_shared_theme(client, world, linked):
    client.force_login(world.coordinator)  # a member of both
    text = _text(client.get(reverse("coordo:programme", args=[world.programme.pk])))
    assert "Avec " + world.other_programme.name in text
    assert "Accès aux droits et aux soins" in text
    assert "Cellule accès aux soins" in text and "SISM 2026" not in text
    text = _text(client.get(reverse("coordo:programme", args=[world.other_programme.pk])))
    assert "Permanences santé en QPV" in text
    assert "Forum de l'accès aux soins" not in text  # answers no finding


def test_the_programme_page_names_five_fiches_of_a_shared_theme_the_others_counted(
    client, world, linked
):
    finding = world.programme.diagnostic.findings.get(theme=Theme.ACCESS)
    for n in range(6):
        fiche = new_action(world, title=f"Accès aux soins, volet {n}")
        services.set_fiche_links(
            action=fiche, actor=world.coordinator, findings=[finding], scheme_objectives=[]
        )
    [link] = figures.linked_programmes(world.programme, {world.other_programme.pk}, shown=5)
    [theme] = link.themes
    assert [a.title for a in theme.here_listed.first] == [
        f"Accès aux soins, volet {n}" for n in range(5)
    ]
    assert (theme.here_listed.more, len(theme.there_listed.first)) == (2, 1)
    assert theme.there_listed.more == 0
    client.force_login(world.coordinator)
    text = _text(client.get(reverse("coordo:programme", args=[world.programme.pk])))
    assert "… et 2 autres" in text
    diagnostic = _text(client.get(reverse("coordo:diagnostic", args=[world.programme.pk])))
    assert "… et " not in diagnostic and "Accès aux soins, volet 5" in diagnostic


def test_the_other_programmes_fiches_are_counted_not_named_to_its_non_members(
    client, world, linked
):
    client.force_login(world.copil)  # a member of the CLS only
    text = _text(client.get(reverse("coordo:diagnostic", args=[world.programme.pk])))
    assert "Cellule accès aux soins" not in text
    assert "1 fiche (réservée aux membres de ce dispositif)" in text


def test_no_fiche_answering_the_diagnostic_means_no_shared_theme(world, linked):
    services.set_fiche_links(
        action=linked["theirs"],
        actor=world.coordinator,
        findings=[],
        scheme_objectives=[],
    )
    [link] = figures.linked_programmes(world.programme, {world.other_programme.pk})
    assert link.themes == []
    assert linked["theirs"].state == ActionState.DRAFT


def test_the_demo_cls_has_its_diagnostic_schemes_and_linked_clsm(db):
    from django.core.management import call_command

    from diagnostic.models import Diagnostic, Finding, ProgrammeLink, Scheme
    from projects.models import Programme

    call_command("seed_demo")
    cls = Programme.objects.get(name__startswith="CLS Val")
    clsm = Programme.objects.get(name__startswith="CLSM Val")
    assert Diagnostic.objects.filter(programme__in=[cls, clsm]).count() == 2
    findings = Finding.objects.filter(diagnostic__programme=cls)
    assert findings.count() >= 6
    assert all(f.source and f.year for f in findings)
    assert findings.filter(actions__isnull=False).distinct().count() >= 5
    kinds = set(Scheme.objects.filter(programme=cls).values_list("kind", flat=True))
    assert {"prs", "ptsm", "city", "asv"} <= kinds
    for scheme in Scheme.objects.filter(programme=cls):
        assert 1 <= scheme.objectives.count() <= 3
        assert any(o.actions.exists() for o in scheme.objectives.all())
    assert ProgrammeLink.linked_to(cls.pk).get() == clsm
    [link] = figures.linked_programmes(cls, {cls.pk, clsm.pk})
    assert [t.label for t in link.themes] == ["Santé mentale"]
    cover = figures.coverage(cls)
    assert cover.findings_without_fiche and cover.fiches_without_finding.first
    counts = (Finding.objects.count(), Scheme.objects.count(), ProgrammeLink.objects.count())
    call_command("seed_demo")  # a second run changes nothing
    assert (Finding.objects.count(), Scheme.objects.count(), ProgrammeLink.objects.count()) == (
        counts
    )
