"""The financing plan of a fiche: budget lines free in number (labelled), what they actually
cost entered while the fiche is carried out, the totals and the remaining gap — on the fiche
page, in the funding workbook and in the guard that opens implementation.

Who may do what to a line, and when, is written out here by hand (never read from the
services' rules): the coordination and the lead of the fiche's organisation enter what a line
cost during implementation and evaluation; whoever edits the fiche changes or removes its
lines while it is prepared (before the COPIL)."""

from __future__ import annotations

import datetime
import io
import re
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from audit.chain import version
from audit.models import AuditEvent
from funding.models import BudgetLine, FundingRequest
from importer import columns
from importer.reader import read_workbook
from importer.template import write_template
from projects.financing import FinancingPlan, Totals, euros, remaining_gap
from projects.models import Action, ActionState, Membership
from spreadsheet import MONEY
from tests.world import action_in, new_action
from workflows import services

NBSP = ("\xa0", "\u202f")  # the thousands separators French formats may use
ALL_STATES = set(ActionState.values)
USERS = (
    "coordinator",
    "coordinator2",
    "copil",
    "cotech",
    "funder",
    "other_funder",
    "action_lead",
    "other_lead",
    "wg_member",
    "ars_referent",
    "outsider",
)
# The oracle: who may, in which states of the fiche.
PREPARING = {"draft", "co_construction"}
EDITORS = {"coordinator", "coordinator2", "action_lead"}  # the fiche has no working group
CARRYING_OUT = {"implementation", "evaluation"}
ACTUAL_ENTRY = {"coordinator", "coordinator2", "action_lead"}  # not the lead of another org
# The plan of ``_prepared``: two lines of the same category and year, labelled apart, and a
# line of the next year. 21 000 € in all.
LINES = (
    (2026, "staff", "Médiatrice santé (0,5 ETP)", Decimal("14000")),
    (2026, "staff", "Vacations d'un travailleur social", Decimal("3000")),
    (2026, "communication", "Affiches et flyers", Decimal("1000")),
    (2027, "operating", "Location du local", Decimal("3000")),
)


def money(text: str) -> str:
    """Amounts as the rules' messages write them: thousands grouped by a non-breaking space."""
    return re.sub(r"(?<=\d) (?=\d)", "\xa0", text)


def page_money(text: str) -> str:
    """Amounts as the pages write them: a non-breaking space before the euro sign too."""
    return money(text).replace(" €", "\xa0€")


def shown(page: str) -> str:
    return page.replace("\u202f", "\xa0")


def other_funder_org(world):
    return Membership.objects.get(user=world.other_funder).organisation


def _prepared(world, *, own_funds=Decimal("1500"), lines=LINES) -> Action:
    """A fiche in co-construction, complete for the COPIL, with the plan ``lines``."""
    action = services.update_action(
        action=action_in(world, ActionState.CO_CONSTRUCTION),
        actor=world.coordinator,
        data={
            "objective": world.objective,
            "target_public": "Habitants des quartiers prioritaires",
            "planned_start": datetime.date(2026, 1, 1),
            "planned_end": datetime.date(2027, 12, 31),
            "own_funds": own_funds,
        },
    )
    for year, category, label, planned in lines:
        services.add_budget_line(
            action=action,
            actor=world.coordinator,
            year=year,
            category=category,
            label=label,
            planned=planned,
        )
    services.add_indicator(
        action=action, actor=world.coordinator, kind="process", label="Nombre de permanences"
    )
    return Action.objects.get(pk=action.pk)


def _request(world, action, funder, amount, scheme="Appel à projets"):
    return services.create_funding_request(
        action=Action.objects.get(pk=action.pk),
        actor=world.coordinator,
        funder_id=funder.pk,
        scheme=scheme,
        year=2026,
        requested_amount=Decimal(amount),
    )


def _grant(world, request, amount, actor=None, **kwargs):
    request = services.transition(request, "submit", actor=world.coordinator)
    return services.transition(
        request,
        "grant",
        actor=actor or world.funder,
        amount=Decimal(amount),
        decision_date=datetime.date(2026, 3, 1),
        **kwargs,
    )


def _funded(world, *, granted="8000", lines=LINES, own_funds=Decimal("1500")) -> Action:
    """A validated fiche in funding: the world's funder asked 10 000 € (grants ``granted``),
    paid 3 000 €; a second request to it still a draft (2 000 €); the other funder refused
    5 000 €; a 3 000 € request withdrawn."""
    action = services.transition(
        _prepared(world, lines=lines, own_funds=own_funds), "submit_to_copil",
        actor=world.coordinator,
    )  # fmt: skip
    action = services.transition(action, "approve", actor=world.copil)
    ars = _request(world, action, world.funder_org, "10000")
    _request(world, action, world.funder_org, "2000", scheme="Appel à projets n° 2")
    refused = _request(world, action, other_funder_org(world), "5000")
    withdrawn = _request(world, action, other_funder_org(world), "3000", scheme="Doublon")
    services.transition(withdrawn, "withdraw", actor=world.coordinator, comment="En double")
    services.transition(Action.objects.get(pk=action.pk), "open_funding", actor=world.coordinator)
    ars = _grant(world, ars, granted, confirm_over_request=Decimal(granted) > 10000)
    tranche = services.add_tranche(
        request=ars,
        actor=world.coordinator,
        label="advance",
        expected_date=datetime.date(2026, 4, 1),
        expected_amount=Decimal("3000"),
    )
    services.record_tranche_receipt(
        tranche=tranche,
        actor=world.funder,
        received_date=datetime.date(2026, 4, 10),
        received_amount=Decimal("3000"),
    )
    refused = services.transition(refused, "submit", actor=world.coordinator)
    services.transition(
        refused,
        "refuse",
        actor=world.other_funder,
        comment="Enveloppe épuisée",
        decision_date=datetime.date(2026, 3, 1),
    )
    return Action.objects.get(pk=action.pk)


def _line(action, label: str) -> BudgetLine:
    return action.budget_lines.get(label=label)


# --- the computation --------------------------------------------------------------------------


def test_the_gap_is_planned_less_own_funds_less_granted_and_negative_is_a_surplus():
    assert remaining_gap(
        planned=Decimal("21000"), own_funds=Decimal("1500"), granted=Decimal("8000")
    ) == Decimal("11500")
    short = Totals(planned=Decimal("100"), own_funds=Decimal("20"), granted=Decimal("50"))
    assert (short.gap, short.covered, short.surplus) == (Decimal("30"), False, Decimal("0"))
    over = Totals(planned=Decimal("100"), own_funds=Decimal("20"), granted=Decimal("90"))
    assert (over.gap, over.covered, over.surplus) == (Decimal("-10"), True, Decimal("10"))
    exact = Totals(planned=Decimal("100"), own_funds=Decimal("100"))
    assert (exact.gap, exact.covered) == (Decimal("0"), True)


def test_euros_is_the_french_money_format():
    assert shown(euros(Decimal("12500"))) == "12\xa0500,00 €"
    assert shown(euros("1500.505")) == "1\xa0500,51 €"
    assert euros(Decimal("-700")) == "-700,00 €"


def test_the_plan_of_a_co_financed_fiche(world):
    action = _funded(world)
    plan = FinancingPlan(action)
    totals = plan.totals
    assert totals.planned == Decimal("21000")
    assert totals.own_funds == Decimal("1500")
    # Asked: every request but the withdrawn one (the refused one was asked, and refused).
    assert totals.requested == Decimal("17000")
    assert totals.granted == Decimal("8000")
    assert plan.paid == Decimal("3000")
    assert plan.gap == Decimal("11500") and not plan.covered
    assert [(y.year, y.planned, len(y.lines)) for y in plan.years] == [
        (2026, Decimal("18000"), 3),
        (2027, Decimal("3000"), 1),
    ]
    # Within a year: the categories' order (staff before communication), then as entered.
    assert [line.label for line in plan.years[0].lines] == [
        "Médiatrice santé (0,5 ETP)",
        "Vacations d'un travailleur social",
        "Affiches et flyers",
    ]
    funders = {str(f.funder): (f.requested, f.granted, f.paid, f.undecided) for f in plan.funders}
    assert funders == {
        world.funder_org.name: (Decimal("12000"), Decimal("8000"), Decimal("3000"), 1),
        other_funder_org(world).name: (Decimal("5000"), Decimal("0"), Decimal("0"), 0),
    }


# --- who enters what, when: role × state ----------------------------------------------------


class _Rollback(Exception):
    pass


def _fiche_with_a_line(world, state: str) -> Action:
    """A fiche in ``state`` with at least one budget line, reached through the services."""
    if state in ("declined", "merged", "abandoned"):  # ways out of a proposal, lines added first
        action = new_action(world)
        services.add_budget_line(
            action=action, actor=world.coordinator, year=2026, category="staff", planned=100
        )
        name = {"declined": "decline", "merged": "merge", "abandoned": "abandon"}[state]
        actor = world.copil if state == "abandoned" else world.coordinator
        extra = {"into": new_action(world)} if state == "merged" else {}
        action = services.transition(
            Action.objects.get(pk=action.pk), name, actor=actor, comment="Motif", **extra
        )
    else:
        action = action_in(world, state)
        if not action.budget_lines.exists():
            services.add_budget_line(
                action=action, actor=world.coordinator, year=2026, category="staff", planned=100
            )
    action = Action.objects.get(pk=action.pk)
    assert action.state == state and action.budget_lines.exists()
    return action


OPERATIONS = {
    "record_budget_actual": (
        lambda line, user: services.record_budget_actual(
            line=line, actor=user, actual=Decimal("42.50")
        ),
        CARRYING_OUT,
        ACTUAL_ENTRY,
    ),
    "update_budget_line": (
        lambda line, user: services.update_budget_line(
            line=line, actor=user, label="Libellé revu", planned=Decimal("99")
        ),
        PREPARING,
        EDITORS,
    ),
    "remove_budget_line": (
        lambda line, user: services.remove_budget_line(line=line, actor=user),
        PREPARING,
        EDITORS,
    ),
}


def _row(line_pk: int) -> dict | None:
    return BudgetLine.objects.filter(pk=line_pk).values().first()


def _attempt(world, action, name: str, user_name: str) -> list[str]:
    call, states, users = OPERATIONS[name]
    expected = action.state in states and user_name in users
    user = getattr(world, user_name)
    line = action.budget_lines.order_by("pk").first()
    problems = []
    try:
        with transaction.atomic():
            before, last = _row(line.pk), AuditEvent.objects.order_by("-pk").first().pk
            try:
                call(BudgetLine.objects.get(pk=line.pk), user)
            except services.Refused as exc:
                if expected:
                    problems.append(f"{name} {action.state} {user_name}: refused ({exc.message})")
                # Who holds no role on the fiche is refused for the role, whatever its state.
                rule = "state" if user_name in users else "role"
                if exc.rule != rule:
                    problems.append(f"{name} {action.state} {user_name}: rule {exc.rule}")
                if _row(line.pk) != before or AuditEvent.objects.filter(pk__gt=last).exists():
                    problems.append(f"{name} {action.state} {user_name}: refused, yet written")
            else:
                events = list(AuditEvent.objects.filter(pk__gt=last))
                if not expected:
                    problems.append(f"{name} {action.state} {user_name}: allowed")
                elif [(e.event, e.actor_id, e.action_id) for e in events] != [
                    (name, user.pk, action.pk)
                ]:
                    problems.append(f"{name} {action.state} {user_name}: events {events}")
                elif (_row(line.pk) is None) != (name == "remove_budget_line"):
                    problems.append(f"{name} {action.state} {user_name}: line not as expected")
            raise _Rollback
    except _Rollback:
        pass
    return problems


def test_who_changes_a_line_and_enters_what_it_cost_in_which_state(world):
    problems = []
    for state in sorted(ALL_STATES):
        action = _fiche_with_a_line(world, state)
        for name in OPERATIONS:
            for user_name in USERS:
                problems += _attempt(world, action, name, user_name)
    assert problems == []


def test_the_refusal_says_when_the_actual_can_be_entered(world):
    action = _fiche_with_a_line(world, "co_construction")
    with pytest.raises(services.Refused) as refused:
        services.record_budget_actual(
            line=action.budget_lines.first(), actor=world.coordinator, actual=Decimal("10")
        )
    assert refused.value.message == (
        "« Saisir le réalisé du budget » n'est possible qu'à l'état : En mise en œuvre, "
        "En évaluation (actuellement « En co-construction »)."
    )


# --- through the pages ------------------------------------------------------------------------


def _post(client, action, line, what, data=None, *, seen=None, follow=True):
    return client.post(
        reverse("coordo:budget-line", args=[action.pk, line.pk, what]),
        {"seen_version": version(action) if seen is None else seen, **(data or {})},
        follow=follow,
    )


def test_the_lead_enters_the_actual_of_a_line_from_the_fiche(client, world):
    action = action_in(world, ActionState.IMPLEMENTATION)
    line = action.budget_lines.get()
    client.force_login(world.action_lead)
    page = client.get(reverse("coordo:action", args=[action.pk])).content.decode()
    assert f'name="ligne{line.pk}-actual"' in page
    response = _post(client, action, line, "realise", {f"ligne{line.pk}-actual": "12 345,50 €"})
    assert "Réalisé enregistré." in response.content.decode()
    line.refresh_from_db()
    assert line.actual == Decimal("12345.50")
    event = AuditEvent.objects.get(event="record_budget_actual")
    assert (event.actor, event.action_id) == (world.action_lead, action.pk)
    assert event.changes == {"actual": ["0.00", "12345.50"]}
    assert page_money("12 345,50 €") in shown(response.content.decode())
    # The lead of another organisation, and a reader, may not (403); nothing written.
    for outsider in (world.other_lead, world.ars_referent, world.funder):
        client.force_login(outsider)
        forbidden = _post(
            client, action, line, "realise", {f"ligne{line.pk}-actual": "1"}, follow=False
        )
        assert forbidden.status_code == 403
    assert AuditEvent.objects.filter(event="record_budget_actual").count() == 1
    # Once closed, nobody enters it any more: the page offers no field.
    client.force_login(world.coordinator)
    closed = action_in(world, ActionState.CLOSED)
    page = client.get(reverse("coordo:action", args=[closed.pk])).content.decode()
    assert "-actual" not in page


@pytest.mark.parametrize(
    ("typed", "words"),
    [
        ("-5", "supérieure ou égale à 0"),
        ("douze", "Saisissez un nombre"),
        ("12,345", "2 chiffres après la virgule"),
        ("99 999 999 999", "10 chiffres avant la virgule"),
        ("", "Ce champ est obligatoire"),
    ],
)
def test_a_bad_actual_is_refused_in_french_and_nothing_is_saved(client, world, typed, words):
    action = action_in(world, ActionState.IMPLEMENTATION)
    line = action.budget_lines.get()
    client.force_login(world.coordinator)
    events = AuditEvent.objects.count()
    response = _post(client, action, line, "realise", {f"ligne{line.pk}-actual": typed})
    page = shown(response.content.decode())
    assert words.replace(" ", "\xa0") in page or words in page, page[-2000:]
    assert "Réalisé" in page
    line.refresh_from_db()
    assert line.actual == Decimal("0") and AuditEvent.objects.count() == events


def test_the_service_refuses_a_negative_or_huge_actual_in_french(world):
    action = action_in(world, ActionState.IMPLEMENTATION)
    line = action.budget_lines.get()
    for bad in (Decimal("-1"), Decimal("10000000000")):
        with pytest.raises(services.Refused) as refused:
            services.record_budget_actual(line=line, actor=world.coordinator, actual=bad)
        assert refused.value.rule == "invalid"
        assert refused.value.message.startswith("Certaines valeurs ne sont pas valides : réalisé")
    line.refresh_from_db()
    assert line.actual == Decimal("0")
    assert not AuditEvent.objects.filter(event="record_budget_actual").exists()


def test_a_stale_page_and_a_double_submit_save_nothing(client, world):
    action = action_in(world, ActionState.IMPLEMENTATION)
    line = action.budget_lines.get()
    client.force_login(world.coordinator)
    stale = version(action)
    services.comment_action(action=action, actor=world.copil, text="Vu")  # changes nothing
    services.record_budget_actual(line=line, actor=world.action_lead, actual=Decimal("100"))
    response = _post(client, action, line, "realise", {f"ligne{line.pk}-actual": "5"}, seen=stale)
    page = response.content.decode()
    assert "depuis que vous avez ouvert la page" in page
    assert "Réalisé d&#x27;une ligne budgétaire" in page  # says what changed
    line.refresh_from_db()
    assert line.actual == Decimal("100")
    # The same form sent twice: the second finds the fiche changed by the first.
    seen = version(action)
    first = _post(client, action, line, "realise", {f"ligne{line.pk}-actual": "250"}, seen=seen)
    assert "Réalisé enregistré." in first.content.decode()
    second = _post(client, action, line, "realise", {f"ligne{line.pk}-actual": "250"}, seen=seen)
    assert "depuis que vous avez ouvert la page" in second.content.decode()
    assert AuditEvent.objects.filter(event="record_budget_actual").count() == 2


def test_lines_are_changed_and_removed_while_the_fiche_is_prepared(client, world):
    action = _prepared(world)
    line = _line(action, "Vacations d'un travailleur social")
    client.force_login(world.coordinator)
    edit = {
        f"ligne{line.pk}-label": "Vacations d'une assistante sociale",
        f"ligne{line.pk}-planned": "3 500",
    }
    response = _post(client, action, line, "modifier", edit)
    assert "Ligne budgétaire modifiée." in response.content.decode()
    line.refresh_from_db()
    assert (line.label, line.planned) == ("Vacations d'une assistante sociale", Decimal("3500"))
    event = AuditEvent.objects.get(event="update_budget_line")
    assert event.changes == {
        "label": ["Vacations d'un travailleur social", "Vacations d'une assistante sociale"],
        "planned": ["3000.00", "3500.00"],
    }
    # The label of another line of the same category and year: a double entry, refused.
    response = _post(
        client,
        action,
        line,
        "modifier",
        {f"ligne{line.pk}-label": "Médiatrice santé (0,5 ETP)", f"ligne{line.pk}-planned": "1"},
    )
    assert "déjà une ligne de ce libellé" in response.content.decode()
    line.refresh_from_db()
    assert line.planned == Decimal("3500")
    # Removed: the trail keeps what it said.
    response = _post(client, action, line, "supprimer")
    assert "Ligne budgétaire supprimée." in response.content.decode()
    assert not BudgetLine.objects.filter(pk=line.pk).exists()
    removed = AuditEvent.objects.get(event="remove_budget_line")
    assert removed.changes["label"] == ["Vacations d'une assistante sociale", None]
    assert removed.action_id == action.pk
    # Once submitted to the COPIL, the plan is frozen: no removal, a message says why.
    action = services.transition(
        Action.objects.get(pk=action.pk), "submit_to_copil", actor=world.coordinator
    )
    other = _line(action, "Affiches et flyers")
    response = _post(client, action, other, "supprimer")
    assert "n&#x27;est possible qu&#x27;à l&#x27;état" in response.content.decode()
    assert BudgetLine.objects.filter(pk=other.pk).exists()
    # A line removed meanwhile (another tab): a message, no error.
    gone = _post(client, action, line, "supprimer")
    assert gone.status_code == 200 and "n&#x27;existe plus" in gone.content.decode()


def test_the_label_is_kept_in_the_version_sent_to_the_copil(world):
    action = services.transition(_prepared(world), "submit_to_copil", actor=world.coordinator)
    snapshot = action.snapshots.get()
    assert {row["label"] for row in snapshot.data["budget"]} == {label for *_, label, _ in LINES}


# --- the fiche page -------------------------------------------------------------------------


def test_the_fiche_page_shows_the_plan_with_its_gap(client, world):
    action = _funded(world)
    client.force_login(world.ars_referent)  # a reader sees the plan
    page = shown(client.get(reverse("coordo:action", args=[action.pk])).content.decode())
    assert 'id="plan-de-financement"' in page
    assert "Reste à financer</dt><dd>" + page_money("11 500,00 €") in page
    for _year, _category, label, _planned in LINES:
        assert label.replace("'", "&#x27;") in page
    for amount in ("21 000,00 €", "1 500,00 €", "17 000,00 €", "8 000,00 €", "3 000,00 €"):
        assert page_money(amount) in page, amount
    assert "1 demande en attente de décision" in page
    assert "Total 2026" in page and "Total 2027" in page
    assert "Modifier</summary>" not in page and "-actual" not in page  # a reader changes nothing


def test_the_fiche_page_shows_a_surplus(client, world):
    action = _funded(world, granted="25000")
    client.force_login(world.coordinator)
    page = shown(client.get(reverse("coordo:action", args=[action.pk])).content.decode())
    # 21 000 planned − 1 500 own funds − 25 000 granted.
    assert "Excédent</dt><dd>" + page_money("5 500,00 €") in page
    assert "Reste à financer</dt>" not in page


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_the_fiche_page_query_count_does_not_grow_with_lines_and_requests(client, world):
    small = _funded(world, lines=LINES[:1], granted="14000")
    many_lines = LINES + tuple(
        (2026, "services", f"Prestation n° {n}", Decimal("100")) for n in range(8)
    )
    large = _funded(world, lines=many_lines, granted="14000")
    for n in range(4):
        _grant(world, _request(world, large, world.funder_org, "100", scheme=f"AAP {n}"), "100")
    client.force_login(world.coordinator)
    counts = [_queries(client, reverse("coordo:action", args=[a.pk])) for a in (small, large)]
    assert counts[0] == counts[1]
    # Carried out (the fields to enter what each line cost): still the same.
    for action in (small, large):
        services.record_funding_waiver(action=action, actor=world.copil, comment="Démarrage")
        services.transition(
            Action.objects.get(pk=action.pk), "start_implementation", actor=world.coordinator
        )
    counts = [_queries(client, reverse("coordo:action", args=[a.pk])) for a in (small, large)]
    assert counts[0] == counts[1]


# --- the guard that opens implementation ---------------------------------------------------------


def test_the_guard_gives_the_amounts_in_french_money_format(world):
    action = _funded(world)
    with pytest.raises(services.Refused) as refused:
        services.transition(action, "start_implementation", actor=world.coordinator)
    assert refused.value.rule == "guard"
    assert "Demandes de financement attendant encore une décision : 1." in refused.value.message
    draft = action.funding_requests.get(state=FundingRequest.State.DRAFT)
    services.transition(draft, "withdraw", actor=world.coordinator, comment="Inutile")
    with pytest.raises(services.Refused) as refused:
        services.transition(
            Action.objects.get(pk=action.pk), "start_implementation", actor=world.coordinator
        )
    assert shown(refused.value.message) == money(
        "Les financements accordés (8 000,00 €) et les fonds propres (1 500,00 €) ne couvrent "
        "pas le budget prévu (21 000,00 €) : reste à financer 11 500,00 €, et aucune "
        "dérogation du COPIL n'est enregistrée."
    )
    covered = _funded(world, granted="19500")  # 21 000 − 1 500: exactly covered
    services.transition(
        covered.funding_requests.get(state="draft"),
        "withdraw",
        actor=world.coordinator,
        comment="Inutile",
    )
    started = services.transition(
        Action.objects.get(pk=covered.pk), "start_implementation", actor=world.coordinator
    )
    assert started.state == ActionState.IMPLEMENTATION


# --- the funding workbook ---------------------------------------------------------------------


def test_the_workbook_has_a_plan_sheet_per_fiche_with_its_gap(client, world):
    short = _funded(world)
    over = _funded(world, granted="25000", lines=LINES[:1], own_funds=Decimal("0"))
    client.force_login(world.coordinator)
    response = client.get(reverse("coordo:funding-export", args=[world.programme.pk]))
    book = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    sheet = book["Plan de financement"]
    assert [c.value for c in sheet[1]] == [
        "Fiche action",
        "Porteur",
        "État de la fiche",
        "Budget prévisionnel",
        "Réalisé",
        "Fonds propres",
        "Demandé",
        "Accordé",
        "Versé",
        "Reste à financer (négatif : excédent)",
    ]
    rows = {r[0]: r[1:] for r in sheet.iter_rows(min_row=2, max_row=3, values_only=True)}
    lead, state = world.lead.name, "En recherche de financement"
    assert rows[short.title] == (lead, state, 21000, 0, 1500, 17000, 8000, 3000, 11500)
    assert rows[over.title] == (lead, state, 14000, 0, 0, 17000, 25000, 3000, -11000)
    assert [c.value for c in sheet[4]][:4] == ["Total", None, None, "=SUM(D2:D3)"]
    assert sheet["J4"].value == "=SUM(J2:J3)"
    assert sheet["D2"].number_format == MONEY and sheet["J3"].number_format == MONEY


# --- the import --------------------------------------------------------------------------------


def _import(world, budget_rows, title="Atelier importé"):
    out = io.BytesIO()
    write_template(programme=world.programme, out=out)
    book = load_workbook(io.BytesIO(out.getvalue()))
    book["Actions"].append(["A1", title])
    for row in budget_rows:
        book["Budget"].append(row)
    filled = io.BytesIO()
    book.save(filled)
    return read_workbook(filled, size=len(filled.getvalue()), programme=world.programme)


def test_the_import_takes_several_labelled_lines_per_category_and_year(world):
    headers = [c.header for c in columns.COLUMNS[columns.BUDGET]]
    assert headers[-1] == "Libellé"  # last, so that older filled templates still fit
    parsed = _import(
        world,
        [
            ["A1", 2026, "Frais de personnel", "1 000", None, "Animatrice"],
            ["A1", 2026, "Frais de personnel", "500", None, "Vacations"],
            ["A1", 2026, "Fonctionnement", "200", None, None],
        ],
    )
    assert parsed.errors == []
    services.import_workbook(
        programme=world.programme, actor=world.coordinator, parsed=parsed, filename="b.xlsx"
    )
    action = Action.objects.get(title="Atelier importé")
    assert sorted(action.budget_lines.values_list("category", "label", "planned")) == [
        ("operating", "Fonctionnement", Decimal("200.00")),
        ("staff", "Animatrice", Decimal("1000.00")),
        ("staff", "Vacations", Decimal("500.00")),
    ]
    # The same label twice (typed, or none: the category's name) is a double entry.
    parsed = _import(
        world,
        [
            ["A1", 2026, "Frais de personnel", "1 000", None, "Animatrice"],
            ["A1", 2026, "Frais de personnel", "500", None, " animatrice "],
        ],
        title="Autre atelier",
    )
    assert [(e.row, e.column, e.header) for e in parsed.errors] == [(4, "F", "Libellé")]
    assert "Ligne en double" in parsed.errors[0].message
