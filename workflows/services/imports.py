"""Writing an imported workbook (see ``importer``, which reads and checks it).

Everything in one transaction, through the ordinary services: each fiche, budget line and
funding request gets the same checks and the same audit event as when it is typed in a page,
and one more event records the import itself (file name and counts). Fiches arrive as drafts
and requests as drafts; their lifecycle then goes on in Coordo. If any service refuses a row,
nothing at all is kept and the refusal is reported with its sheet and row.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from audit import chain
from importer.columns import ACTIONS, BUDGET, COLUMNS, FUNDING, CellError, ParsedImport
from projects.models import Programme, Role

from .actions import add_budget_line, create_action
from .funding import create_funding_request
from .runner import Refused, Rule

IMPORT = Rule(
    gettext_lazy("Importer des fiches actions et des financements"), frozenset({Role.COORDINATOR})
)


@dataclass(frozen=True)
class ImportSummary:
    actions: int
    budget_lines: int
    funding_requests: int

    def counts(self) -> str:
        """« 2 fiches actions proposées, 1 ligne budgétaire, … » (current language)."""
        return ", ".join(
            (
                ngettext(
                    "{n} fiche action proposée",
                    "{n} fiches actions proposées",
                    self.actions,
                ).format(n=self.actions),
                ngettext(
                    "{n} ligne budgétaire", "{n} lignes budgétaires", self.budget_lines
                ).format(n=self.budget_lines),
                ngettext(
                    "{n} demande de financement en brouillon",
                    "{n} demandes de financement en brouillon",
                    self.funding_requests,
                ).format(n=self.funding_requests),
            )
        )


class ImportRefused(Exception):
    """A service refused a row while importing: nothing was saved; ``errors`` says where."""

    def __init__(self, errors: list[CellError]):
        super().__init__("; ".join(e.message for e in errors))
        self.errors = errors


@transaction.atomic
def import_workbook(
    *,
    programme: Programme,
    actor,
    parsed: ParsedImport,
    filename: str,
    ip: str | None = None,
) -> ImportSummary:
    """Create the fiches, budget lines and funding requests of a checked workbook."""
    IMPORT.check(actor, programme)
    if parsed.errors:
        raise ValueError("A workbook with errors is never imported.")
    actions = {}
    for row in parsed.actions:
        actions[row.reference] = _row(
            ACTIONS,
            row.row,
            lambda row=row: create_action(programme=programme, actor=actor, data=row.data, ip=ip),
        )
    for row in parsed.budget_lines:
        _row(
            BUDGET,
            row.row,
            lambda row=row: add_budget_line(
                action=actions[row.reference],
                actor=actor,
                year=row.year,
                category=row.category,
                planned=row.planned,
                actual=row.actual,
                label=row.label,
                ip=ip,
            ),
        )
    for row in parsed.requests:
        _row(
            FUNDING,
            row.row,
            lambda row=row: create_funding_request(
                action=actions[row.reference],
                actor=actor,
                funder_id=row.funder.pk,
                scheme=row.scheme,
                year=row.year,
                requested_amount=row.requested_amount,
                ip=ip,
            ),
        )
    summary = ImportSummary(len(parsed.actions), len(parsed.budget_lines), len(parsed.requests))
    chain.record(
        programme_id=programme.pk,
        actor=actor,
        obj=programme,
        event="import_workbook",
        changes=chain.field_changes(
            {},
            {
                "file": filename,
                "actions": summary.actions,
                "budget_lines": summary.budget_lines,
                "funding_requests": summary.funding_requests,
            },
        ),
        comment=chain.in_trail_language(
            lambda: _("Import du classeur « {file} » : {counts}.").format(
                file=filename, counts=summary.counts()
            )
        ),
        ip=ip,
    )
    return summary


def _row(sheet: str, number: int, call: Callable):
    """Run one service; a refusal becomes the row's errors (a refusal for the role stays a
    ``Refused``: the page answers 403)."""
    try:
        return call()
    except Refused as exc:
        if exc.rule == "role":
            raise
        headers = {c.key: c.header for c in COLUMNS[sheet]}
        if exc.errors:
            errors = [
                CellError(sheet, number, "", headers.get(name, ""), " ".join(messages))
                for name, messages in exc.errors.items()
            ]
        else:
            errors = [CellError(sheet, number, "", "", exc.message)]
        raise ImportRefused(errors) from exc
