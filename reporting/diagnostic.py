"""Read-only figures of a programme's diagnostic and of its contribution to the other schemes:
which findings no fiche answers yet and which fiches answer no finding (the dashboard and the
annual report), each scheme's objectives with the fiches contributing to them, their state and
planned budget (the report and its workbook), and the fiches of a linked programme (a CLS and
its CLSM) that share a theme with this one's.

"Sharing a theme": both programmes have fiches answering findings of the same theme of their
diagnostics (``diagnostic.models.Theme``, one list for every programme, so that a CLS's
« Santé mentale » meets its CLSM's). The number of queries does not depend on the number of
findings, fiches or objectives.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import (
    Count,
    DecimalField,
    Exists,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Sum,
)
from django.db.models.functions import Coalesce

from diagnostic.models import Diagnostic, Finding, ProgrammeLink, Scheme, SchemeObjective, Theme
from funding.models import BudgetLine
from projects.models import NOT_CARRIED_OUT, Action, Programme

from .shortened import Shortened, shorten

_MONEY = DecimalField(max_digits=14, decimal_places=2)


def counted_actions(programme: Programme | int) -> QuerySet[Action]:
    """The programme's fiches that count (not rejected, abandoned, declined nor merged)."""
    return Action.objects.filter(programme=programme).exclude(state__in=NOT_CARRIED_OUT)


def with_budget(actions: QuerySet[Action]) -> QuerySet[Action]:
    """The fiches with ``budget``: the total of their planned budget lines (a subquery)."""
    planned = (
        BudgetLine.objects.filter(action=OuterRef("pk"))
        .order_by()
        .values("action")
        .annotate(total=Sum("planned"))
        .values("total")
    )
    return actions.annotate(
        budget=Coalesce(Subquery(planned, output_field=_MONEY), Decimal("0"), output_field=_MONEY)
    )


@dataclass(frozen=True)
class Coverage:
    """How the fiches answer the diagnostic."""

    diagnostic: Diagnostic | None
    findings: int
    findings_without_fiche: list[Finding]
    fiches: int
    # The fiches answering no finding: all of them, or the first a page shows.
    fiches_without_finding: Shortened
    shown: int | None = None  # how many of each list a page shows (None: all)

    @property
    def findings_listed(self) -> Shortened:
        return shorten(self.findings_without_fiche, self.shown)

    @property
    def answered(self) -> int:
        return self.findings - len(self.findings_without_fiche)

    @property
    def fiches_answering(self) -> int:
        return self.fiches - self.fiches_without_finding.total


def findings_with_answers(programme: Programme | int) -> QuerySet[Finding]:
    """The programme's findings, each with ``answers``: how many counted fiches answer it."""
    return (
        Finding.objects.filter(diagnostic__programme=programme)
        .annotate(answers=Count("actions", filter=Q(actions__in=counted_actions(programme))))
        .order_by("theme", "pk")
    )


def coverage(programme: Programme, shown: int | None = None) -> Coverage:
    """The findings no counted fiche answers, and the counted fiches answering no finding
    (``shown``: how many of each a page lists, the others counted in the database: a page
    reads the same few rows whatever the programme's number of fiches)."""
    diagnostic = Diagnostic.objects.filter(programme=programme).first()
    findings = list(findings_with_answers(programme))
    answering = Exists(Finding.actions.through.objects.filter(action_id=OuterRef("pk")))
    fiches = counted_actions(programme)
    counts = fiches.aggregate(all=Count("pk"), unanswering=Count("pk", filter=~answering))
    unanswering = fiches.filter(~answering).only("pk", "title", "state", "programme_id")
    return Coverage(
        diagnostic=diagnostic,
        findings=len(findings),
        findings_without_fiche=[f for f in findings if not f.answers],
        fiches=counts["all"],
        fiches_without_finding=Shortened(
            list(unanswering.order_by("pk")[:shown]), counts["unanswering"]
        ),
        shown=shown,
    )


@dataclass(frozen=True)
class ObjectiveRow:
    objective: SchemeObjective
    actions: list[Action]  # with ``budget``

    @property
    def budget(self) -> Decimal:
        return sum((a.budget for a in self.actions), Decimal("0"))


@dataclass(frozen=True)
class SchemeRow:
    scheme: Scheme
    objectives: list[ObjectiveRow]


def contribution(programme: Programme | int) -> list[SchemeRow]:
    """Each scheme of the programme, each of its objectives with the counted fiches that
    contribute to it (their state and planned budget). Three queries."""
    fiches = with_budget(counted_actions(programme)).only("pk", "title", "state").order_by("pk")
    schemes = Scheme.objects.filter(programme=programme).prefetch_related(
        Prefetch(
            "objectives",
            queryset=SchemeObjective.objects.prefetch_related(
                Prefetch("actions", queryset=fiches)
            ).order_by("pk"),
        )
    )
    return [
        SchemeRow(
            scheme=scheme,
            objectives=[ObjectiveRow(o, list(o.actions.all())) for o in scheme.objectives.all()],
        )
        for scheme in schemes
    ]


@dataclass
class SharedTheme:
    label: str
    here: list[Action] = field(default_factory=list)
    there: list[Action] = field(default_factory=list)
    shown: int | None = None  # how many fiches of each side a page lists (None: all)

    @property
    def here_listed(self) -> Shortened:
        return shorten(self.here, self.shown)

    @property
    def there_listed(self) -> Shortened:
        return shorten(self.there, self.shown)


@dataclass
class LinkedProgramme:
    programme: Programme
    themes: list[SharedTheme]
    visible: bool  # whether the reader may see the other programme's fiches (else counts)
    link: ProgrammeLink | None = None


def _fiches_by_theme(programme_id: int) -> dict[str, list[Action]]:
    rows = (
        Finding.actions.through.objects.filter(
            finding__diagnostic__programme_id=programme_id,
            action__in=counted_actions(programme_id),
        )
        .values_list("finding__theme", "action_id", "action__title", "action__state")
        .order_by("action__title", "action_id")
        .distinct()
    )
    found: dict[str, dict[int, Action]] = defaultdict(dict)
    for theme, pk, title, state in rows:
        found[theme].setdefault(pk, Action(pk=pk, title=title, state=state))
    return {theme: list(actions.values()) for theme, actions in found.items()}


def linked_programmes(
    programme: Programme, visible: set[int], shown: int | None = None
) -> list[LinkedProgramme]:
    """Each programme linked to this one, with the themes both have fiches on (this one's
    fiches and the other's; ``visible``: the programmes whose fiches the reader may see — of
    the others, the page shows only how many; ``shown``: how many of each side a page lists).
    Three queries, and one per linked programme (a CLS has one CLSM)."""
    ours = _fiches_by_theme(programme.pk)
    links = {
        link.first_id if link.second_id == programme.pk else link.second_id: link
        for link in ProgrammeLink.objects.filter(Q(first=programme) | Q(second=programme))
    }
    linked = []
    for other in ProgrammeLink.linked_to(programme.pk).order_by("name"):
        theirs = _fiches_by_theme(other.pk)
        linked.append(
            LinkedProgramme(
                programme=other,
                themes=[
                    SharedTheme(str(label), ours[value], theirs[value], shown)
                    for value, label in Theme.choices
                    if value in ours and value in theirs
                ],
                visible=other.pk in visible,
                link=links.get(other.pk),
            )
        )
    return linked
