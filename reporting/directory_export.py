"""The partner directory's workbook (annuaire des partenaires): one sheet of organisations
with what each does in the programme, one of their contacts, one of the fiches each leads,
funds or partners. Write-only, in French, user text never a formula (``spreadsheet.Sheet``);
the same fixed number of queries as the page, whatever the number of organisations.

The contacts' sheet holds personal data (professional details): the workbook is for the
programme's members, as the page is.
"""

from __future__ import annotations

import datetime
from typing import BinaryIO

from django.conf import settings
from django.db.models import QuerySet
from django.utils import translation
from openpyxl import Workbook

from projects.models import Organisation, Programme
from spreadsheet import Sheet, for_file_name

from .directory import Entry, entries


def export_filename(programme_name: str, today: datetime.date) -> str:
    return f"annuaire-partenaires-{for_file_name(programme_name)}-{today:%Y-%m-%d}.xlsx"


def write_directory_workbook(
    *, programme: Programme, organisations: QuerySet[Organisation], out: BinaryIO
) -> None:
    """Write the three sheets for ``organisations`` (of the programme, already filtered)."""
    with translation.override(settings.LANGUAGE_CODE):
        found = entries(programme, organisations.order_by("name", "pk"))
        workbook = Workbook(write_only=True)
        _organisations(workbook, found)
        _contacts(workbook, found)
        _fiches(workbook, found)
        workbook.save(out)


def _fiches_text(fiches) -> str:
    return "\n".join(f.title for f in fiches)


def _organisations(workbook: Workbook, found: list[Entry]) -> None:
    sheet = Sheet(
        workbook,
        "Organisations",
        [
            ("Organisation", "text", 38),
            ("Secteur", "text", 30),
            ("Signataire du contrat", "text", 12),
            ("Porte les fiches", "text", 45),
            ("Finance les fiches", "text", 45),
            ("Partenaire des fiches", "text", 45),
            ("Instances", "text", 40),
            ("Contacts", "count", 10),
        ],
    )
    for entry in found:
        sheet.append(
            [
                entry.organisation.name,
                entry.organisation.get_kind_display(),
                "Oui" if entry.signatory else "",
                _fiches_text(entry.leads),
                "\n".join(
                    f"{g.fiche.title} ({g.scheme} {g.year}, {g.state_label})" for g in entry.grants
                ),
                _fiches_text(entry.partners),
                "\n".join(f"{s.label} ({s.people})" for s in entry.seats),
                len(entry.contacts),
            ]
        )
    sheet.close()


def _contacts(workbook: Workbook, found: list[Entry]) -> None:
    sheet = Sheet(
        workbook,
        "Contacts",
        [
            ("Organisation", "text", 38),
            ("Secteur", "text", 30),
            ("Nom", "text", 22),
            ("Prénom", "text", 18),
            ("Fonction", "text", 30),
            ("Courriel professionnel", "text", 32),
            ("Téléphone professionnel", "text", 20),
        ],
    )
    for entry in found:
        for contact in entry.contacts:
            sheet.append(
                [
                    entry.organisation.name,
                    entry.organisation.get_kind_display(),
                    contact.last_name,
                    contact.first_name,
                    contact.function,
                    contact.email,
                    contact.phone,
                ]
            )
    sheet.close()


def _fiches(workbook: Workbook, found: list[Entry]) -> None:
    sheet = Sheet(
        workbook,
        "Fiches et partenaires",
        [
            ("Organisation", "text", 38),
            ("Rôle", "text", 14),
            ("Fiche action", "text", 50),
            ("État de la fiche", "text", 24),
            ("Financement", "text", 40),
            ("Demandé", "money", 14),
            ("Accordé", "money", 14),
        ],
    )
    for entry in found:
        name = entry.organisation.name
        for fiche in entry.leads:
            sheet.append([name, "Porteur", fiche.title, fiche.state_label, "", None, None])
        for fiche in entry.partners:
            sheet.append([name, "Partenaire", fiche.title, fiche.state_label, "", None, None])
        for grant in entry.grants:
            sheet.append(
                [
                    name,
                    "Financeur",
                    grant.fiche.title,
                    grant.fiche.state_label,
                    f"{grant.scheme} {grant.year} — {grant.state_label}",
                    grant.requested,
                    grant.granted,
                ]
            )
    sheet.close()
