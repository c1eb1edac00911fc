"""Import of existing fiches actions and funding from a workbook: the template filled as a
coordinator would, each kind of bad row, files refused as a whole (too big, zip bomb, not a
workbook, too many rows). A bad file saves nothing at all."""

import datetime
import io
import re
import zipfile
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.files.uploadhandler import TemporaryFileUploadHandler
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse
from openpyxl import Workbook, load_workbook
from viewflow.workflow.models import Process

from audit.chain import verify_chain
from audit.models import AuditEvent
from funding.models import BudgetLine, FundingRequest
from importer import archive, cells, columns, reader
from projects.models import Action, ActionState
from spreadsheet import DATE, MONEY, XLSX
from tests.factories import ObjectiveFactory, OrganisationFactory
from tests.world import new_action
from web.views import imports as import_views
from workflows import services
from workflows.services import imports as service_imports

ACTION_HEADERS = [c.header for c in columns.COLUMNS[columns.ACTIONS]]


def _template(client, world) -> Workbook:
    client.force_login(world.coordinator)
    response = client.get(reverse("coordo:import-template", args=[world.programme.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == XLSX
    assert "modele-import-" in response["Content-Disposition"]
    return load_workbook(io.BytesIO(b"".join(response.streaming_content)))


def _bytes(wb: Workbook) -> bytes:
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _upload(client, world, content: bytes, name: str = "fiches.xlsx", follow: bool = False):
    client.force_login(world.coordinator)
    return client.post(
        reverse("coordo:import", args=[world.programme.pk]),
        {"fichier": SimpleUploadedFile(name, content, XLSX)},
        follow=follow,
    )


def _counts() -> dict:
    return {
        model.__name__: model.objects.count()
        for model in (Action, BudgetLine, FundingRequest, AuditEvent, Process)
    }


def _objective_label(world) -> str:
    return f"{world.objective.axis.number} · {world.objective.title}"


def _good_rows(world) -> dict:
    """Two fiches, three budget lines, two requests, written the ways people type them."""
    return {
        columns.ACTIONS: [
            [
                "A1",
                "  Permanences d'accès aux droits santé  ",
                _objective_label(world),
                f"  {world.lead.name.upper()} ",  # case and spaces do not matter
                world.working_group.name,
                "co-construction",
                "Habitants des quartiers prioritaires",
                "Quartier Nord",
                "Renoncement aux soins constaté.",
                "15/01/2026",  # text date
                datetime.datetime(2026, 12, 31),  # real Excel date
                "1 500,00 €",
            ],
            [
                "A2",
                "Atelier « bien vieillir »",
                world.objective.title,  # the title alone, unique in the programme
                None,
                None,
                None,  # participation level: Consultation by default
                None,
                None,
                None,
                datetime.date(2026, 3, 1),
                " 30/06/2026 ",
                None,
            ],
        ],
        columns.BUDGET: [
            ["A1", 2026, "Frais de personnel", "12\u202f500,00\u00a0€", None],
            ["A1", "2026", "fonctionnement", 12500.5, "0"],
            [" a2 ", 2026.0, "Communication", "12500,5", 100],
        ],
        columns.FUNDING: [
            ["A1", world.funder_org.name, "FIR prévention", 2026, "12 500,00 €"],
            ["A2", world.lead.name, "Fonds propres de la commune", "2026", 1500],
        ],
    }


def _filled(client, world, rows: dict | None = None) -> Workbook:
    wb = _template(client, world)
    for sheet, sheet_rows in (rows if rows is not None else _good_rows(world)).items():
        for row in sheet_rows:
            wb[sheet].append(row)
    return wb


def test_template_has_french_headers_an_example_row_and_explanations(client, world):
    wb = _template(client, world)
    assert wb.sheetnames == ["Explications", "Actions", "Budget", "Financements", "Listes"]
    actions = wb["Actions"]
    assert [c.value for c in actions[1]][:3] == ["Référence *", "Intitulé *", "Objectif"]
    assert actions["A1"].font.b and actions.freeze_panes == "A2"
    example = [c.value for c in actions[2]]
    assert example[0] == columns.EXAMPLE_REFERENCE
    assert example[2] == _objective_label(world)
    assert actions["J2"].value == datetime.datetime(2026, 1, 15)
    assert actions["J2"].number_format == DATE and actions["L2"].number_format == MONEY
    assert [c.value for c in wb["Financements"][1]] == [
        "Référence de la fiche *",
        "Financeur *",
        "Dispositif de financement *",
        "Année *",
        "Montant demandé *",
    ]
    assert wb["Budget"]["A2"].value == wb["Financements"]["A2"].value == "EXEMPLE"
    explained = {(r[0], r[1]) for r in wb["Explications"].iter_rows(values_only=True) if r and r[1]}
    for sheet in columns.DATA_SHEETS:
        for column in columns.COLUMNS[sheet]:
            assert (sheet, column.header) in explained
    text = " ".join(str(r[0]) for r in wb["Explications"].iter_rows(values_only=True) if r[0])
    assert "« Proposée »" in text and "rien n'est importé" in text
    listed = [r for r in wb["Listes"].iter_rows(min_row=2, values_only=True)]
    assert _objective_label(world) in [r[0] for r in listed]
    assert world.funder_org.name in [r[1] for r in listed]
    assert world.working_group.name in [r[2] for r in listed]
    assert "Frais de personnel" in [r[3] for r in listed]
    assert actions.data_validations.dataValidation  # drop-down lists from « Listes »


def test_untouched_template_imports_nothing(client, world):
    before = _counts()
    response = _upload(client, world, _bytes(_template(client, world)))
    assert response.status_code == 400
    assert "aucune fiche à importer" in response.content.decode()
    assert _counts() == before


def test_good_rows_are_imported_as_drafts_with_their_audit_events(client, world):
    before = _counts()
    response = _upload(client, world, _bytes(_filled(client, world)), follow=True)
    assert response.redirect_chain[-1][0] == reverse("coordo:programme", args=[world.programme.pk])
    page = response.content.decode()
    assert (
        "Import terminé : 2 fiches actions proposées, 3 lignes budgétaires, "
        "2 demandes de financement en brouillon."
    ) in page

    a1 = Action.objects.get(title="Permanences d'accès aux droits santé")
    a2 = Action.objects.get(title="Atelier « bien vieillir »")
    assert a1.state == a2.state == ActionState.DRAFT
    assert a1.programme == world.programme and a1.created_by == world.coordinator
    assert a1.objective == a2.objective == world.objective
    assert a1.lead_organisation == world.lead and a1.working_group == world.working_group
    assert a1.participation_level == "co_construction" and a2.participation_level == "consultation"
    assert (a1.planned_start, a1.planned_end) == (
        datetime.date(2026, 1, 15),
        datetime.date(2026, 12, 31),
    )
    assert (a2.planned_start, a2.planned_end) == (
        datetime.date(2026, 3, 1),
        datetime.date(2026, 6, 30),
    )
    assert a1.own_funds == Decimal("1500.00") and a1.territory == "Quartier Nord"
    lines = {
        (b.action_id, b.year, b.category): (b.planned, b.actual) for b in BudgetLine.objects.all()
    }
    assert lines == {
        (a1.pk, 2026, "staff"): (Decimal("12500.00"), Decimal("0")),
        (a1.pk, 2026, "operating"): (Decimal("12500.50"), Decimal("0")),
        (a2.pk, 2026, "communication"): (Decimal("12500.50"), Decimal("100")),
    }
    requests = FundingRequest.objects.order_by("action_id")
    assert [
        (r.action_id, r.funder, r.scheme, r.year, r.requested_amount, r.state) for r in requests
    ] == [
        (a1.pk, world.funder_org, "FIR prévention", 2026, Decimal("12500.00"), "draft"),
        (a2.pk, world.lead, "Fonds propres de la commune", 2026, Decimal("1500.00"), "draft"),
    ]
    # Each object has its ordinary audit event, and the import one more; each fiche its process.
    new_events = AuditEvent.objects.order_by("pk")[before["AuditEvent"] :]
    assert [e.event for e in new_events].count("create") == 2
    assert [e.event for e in new_events].count("add_budget_line") == 3
    assert [e.event for e in new_events].count("create_funding_request") == 2
    summary = AuditEvent.objects.get(event="import_workbook")
    assert summary.actor == world.coordinator and summary.object_type == "projects.programme"
    assert summary.changes["file"] == [None, "fiches.xlsx"]
    assert summary.changes["actions"] == [None, 2] and summary.changes["funding_requests"] == [
        None,
        2,
    ]
    assert "fiches.xlsx" in summary.comment and summary.ip == "127.0.0.1"
    assert verify_chain(programme_id=world.programme.pk).ok
    assert _counts()["Process"] == before["Process"] + 2
    # The same file again would duplicate the fiches: refused, nothing saved.
    again = _counts()
    response = _upload(client, world, _bytes(_filled(client, world)))
    assert (
        response.status_code == 400
        and "existe déjà dans ce dispositif" in response.content.decode()
    )
    assert _counts() == again


def _error(response) -> list[tuple]:
    assert response.status_code == 400
    return [(e.sheet, e.row, e.column, e.header, e.message) for e in response.context["errors"]]


# (sheet, row index in that sheet's good rows, column index, bad value) -> (column letter,
# header, words of the message)
BAD_CELLS = {
    "unknown lead": (("Actions", 0, 3, "Association inconnue"), ("D", "Porteur", "inconnue")),
    "unknown objective": (("Actions", 0, 2, "9 · Rien"), ("C", "Objectif", "inconnu")),
    "unknown group": (("Actions", 0, 4, "GT fantôme"), ("E", "Groupe de travail", "inconnu")),
    "unknown level": (
        ("Actions", 0, 5, "Décision"),
        ("F", "Niveau de participation", "pas une valeur possible"),
    ),
    "missing title": (("Actions", 1, 1, "   "), ("B", "Intitulé", "obligatoire")),
    "duplicate reference": (("Actions", 1, 0, "a1"), ("A", "Référence", "déjà utilisée ligne 3")),
    "title too long": (("Actions", 1, 1, "x" * 301), ("B", "Intitulé", "300 au plus")),
    "unreadable date": (("Actions", 0, 9, "2026/13/01"), ("J", "Début prévu", "pas une date")),
    "impossible date": (("Actions", 0, 9, "31/02/2026"), ("J", "Début prévu", "n'existe pas")),
    "end before start": (
        ("Actions", 0, 10, "01/01/2026"),
        ("K", "Fin prévue", "précède le début prévu"),
    ),
    "negative own funds": (("Actions", 0, 11, "-1 500,00 €"), ("L", "Fonds propres", "négatif")),
    "unreadable amount": (
        ("Financements", 0, 4, "douze mille"),
        ("E", "Montant demandé", "pas un montant"),
    ),
    "three decimals": (("Budget", 0, 3, "12,505"), ("D", "Prévisionnel", "Deux décimales")),
    "negative request": (("Financements", 0, 4, -100), ("E", "Montant demandé", "négatif")),
    "amount too large": (
        ("Financements", 0, 4, "99 999 999 999"),
        ("E", "Montant demandé", "au plus 9\xa0999\xa0999\xa0999,99 €"),
    ),
    "missing amount": (("Financements", 1, 4, None), ("E", "Montant demandé", "obligatoire")),
    "unknown funder": (("Financements", 1, 1, "Mécène X"), ("B", "Financeur", "inconnue")),
    "request for unknown fiche": (
        ("Financements", 1, 0, "A9"),
        ("A", "Référence de la fiche", "Aucune fiche de référence « A9 »"),
    ),
    "budget for unknown fiche": (
        ("Budget", 2, 0, "B2"),
        ("A", "Référence de la fiche", "Aucune fiche"),
    ),
    "bad year": (("Budget", 1, 1, "deux mille"), ("B", "Année", "quatre chiffres")),
    "year out of range": (("Financements", 0, 3, 1789), ("D", "Année", "hors de la période")),
    "unknown category": (
        ("Budget", 0, 2, "Cadeaux"),
        ("C", "Catégorie", "pas une valeur possible"),
    ),
    "duplicate budget line": (
        ("Budget", 1, 2, "Frais de personnel"),
        ("C", "Catégorie", "Ligne en double"),
    ),
}


@pytest.mark.parametrize("kind", BAD_CELLS)
def test_each_kind_of_bad_row_is_listed_and_nothing_is_saved(client, world, kind):
    (sheet, index, column, value), (letter, header, words) = BAD_CELLS[kind]
    rows = _good_rows(world)
    rows[sheet][index][column] = value
    before = _counts()
    response = _upload(client, world, _bytes(_filled(client, world, rows)))
    errors = _error(response)
    # The example row is row 2: the good rows start at row 3. A duplicated reference also
    # leaves the rows of the fiche it replaced (A2) without their fiche.
    assert len(errors) == (3 if kind == "duplicate reference" else 1), errors
    assert errors[0][:4] == (sheet, index + 3, letter, header)
    assert words in errors[0][4]
    page = response.content.decode()
    assert "rien n'a été importé." in page
    assert _counts() == before


def test_every_error_of_the_file_is_listed_at_once(client, world):
    rows = _good_rows(world)
    rows["Actions"][0][3] = "Inconnue"
    rows["Actions"][1][1] = None
    rows["Financements"][0][4] = "-5"
    rows["Budget"][0][1] = "2O26"
    before = _counts()
    errors = _error(_upload(client, world, _bytes(_filled(client, world, rows))))
    assert [(e[0], e[1], e[2]) for e in errors] == [
        ("Actions", 3, "D"),
        ("Actions", 4, "B"),
        ("Budget", 3, "B"),
        ("Financements", 3, "E"),
    ]
    assert _counts() == before


def test_ambiguous_objective_title_asks_for_the_axis_number(client, world):
    ObjectiveFactory(axis__programme=world.programme, title=world.objective.title)
    rows = _good_rows(world)
    errors = _error(_upload(client, world, _bytes(_filled(client, world, rows))))
    assert [(e[0], e[1], e[2]) for e in errors] == [("Actions", 4, "C")]
    assert "précisez le numéro d'axe" in errors[0][4]


def test_sheet_and_header_mistakes_are_reported_before_the_rows(client, world):
    wb = _filled(client, world)
    wb["Actions"]["B1"] = "Titre"  # renamed required column
    wb["Budget"].title = "Budget 2026"  # renamed sheet
    wb.create_sheet("Feuil1")  # an empty sheet does no harm
    before = _counts()
    errors = _error(_upload(client, world, _bytes(wb)))
    assert ("Budget 2026", None, "", "") == errors[0][:4]
    assert "Feuille « Budget 2026 » inconnue" in errors[0][4]
    assert ("Actions", 1, "B", "Titre") == errors[1][:4] and "inconnue" in errors[1][4]
    assert ("Actions", 1, "", "Intitulé") == errors[2][:4] and "absente" in errors[2][4]
    assert len(errors) == 3
    assert _counts() == before


def test_a_refusal_midway_rolls_everything_back(client, world, monkeypatch):
    """The rows were checked, but a service still refuses one (say, the rules changed): the
    fiches already created in the same import are rolled back with their events."""
    real = services.create_funding_request
    calls = []

    def second_refused(**kwargs):
        calls.append(kwargs)
        if len(calls) == 2:
            raise services.Refused("state", "Refus de test.")
        return real(**kwargs)

    monkeypatch.setattr(service_imports, "create_funding_request", second_refused)
    before = _counts()
    errors = _error(_upload(client, world, _bytes(_filled(client, world))))
    assert errors == [("Financements", 4, "", "", "Refus de test.")]
    assert len(calls) == 2
    assert _counts() == before


# --- files refused as a whole --------------------------------------------------------------------


@pytest.fixture
def no_parsing(monkeypatch):
    """openpyxl must never open what is refused before parsing."""

    def refuse(*args, **kwargs):
        raise AssertionError("the file reached openpyxl")

    monkeypatch.setattr(reader, "load_workbook", refuse)


def _refused(response, words: str) -> None:
    assert response.status_code == 400
    assert words in response.context["file_error"]
    assert not response.context["errors"]


def test_a_file_over_10_mb_is_refused(client, world, no_parsing, monkeypatch):
    stored = []
    real = TemporaryFileUploadHandler.receive_data_chunk

    def spy(self, raw_data, start):
        stored.append(len(raw_data))
        return real(self, raw_data, start)

    monkeypatch.setattr(TemporaryFileUploadHandler, "receive_data_chunk", spy)
    before = _counts()
    big = b"PK" + b"\0" * (10 * 1024 * 1024)
    _refused(_upload(client, world, big), "dépasse la limite de 10 Mo")
    assert _counts() == before
    assert 0 < sum(stored) <= archive.MAX_FILE_BYTES  # the upload stopped being stored
    with pytest.raises(archive.FileRefused, match="la limite est de 10 Mo"):
        archive.check_archive(io.BytesIO(b"PK"), archive.MAX_FILE_BYTES + 1)


def _zip_bomb() -> bytes:
    """A workbook-shaped archive of about 60 KB whose sheet inflates to 64 MB of zeros."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
        with archive.open("xl/worksheets/sheet1.xml", "w") as member:
            chunk = b"\0" * (1024 * 1024)
            for _ in range(64):
                member.write(chunk)
    return out.getvalue()


def test_a_zip_bomb_is_refused_before_parsing(client, world, no_parsing):
    bomb = _zip_bomb()
    assert len(bomb) < 200 * 1024
    before = _counts()
    _refused(_upload(client, world, bomb), "structure anormale")
    assert _counts() == before


def test_an_archive_too_large_once_inflated_is_refused(client, world, monkeypatch):
    assert archive.MAX_UNCOMPRESSED_BYTES == 200 * 1024 * 1024 and archive.MAX_RATIO == 100
    content = _bytes(_filled(client, world))
    inflated = sum(m.file_size for m in zipfile.ZipFile(io.BytesIO(content)).infolist())
    monkeypatch.setattr(archive, "MAX_UNCOMPRESSED_BYTES", inflated - 1)
    before = _counts()
    _refused(_upload(client, world, content), "structure anormale")
    assert _counts() == before


@pytest.mark.parametrize(
    "name, content, words",
    [
        ("fiches.csv", "Référence;Intitulé\nA1;Atelier\n".encode(), "n'est pas un classeur Excel"),
        ("ancien.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 512, "Excel 97-2003 (.xls)"),
        ("tronque.xlsx", b"PK\x03\x04 pas vraiment une archive", "n'est pas un classeur Excel"),
        ("vide.xlsx", b"", "n'est pas un classeur Excel"),
    ],
)
def test_a_file_that_is_not_a_workbook_is_refused(client, world, no_parsing, name, content, words):
    before = _counts()
    _refused(_upload(client, world, content, name=name), words)
    assert _counts() == before


def test_an_open_document_spreadsheet_is_refused(client, world, no_parsing):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        archive.writestr("content.xml", "<office:document-content/>")
    _refused(_upload(client, world, out.getvalue(), name="fiches.ods"), "pas un classeur Excel")


def test_a_broken_workbook_is_refused_with_a_message(client, world):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook><pas du xml")
    before = _counts()
    _refused(_upload(client, world, out.getvalue()), "n'a pas pu être lu")
    assert _counts() == before


PACKAGE = "http://schemas.openxmlformats.org/package/2006"
OFFICE = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
SPREADSHEET = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
XLSX_PARTS = {
    "[Content_Types].xml": f'<Types xmlns="{PACKAGE}/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
    'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-'
    'officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/'
    'sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.'
    'worksheet+xml"/></Types>',
    "_rels/.rels": f'<Relationships xmlns="{PACKAGE}/relationships"><Relationship Id="rId1" '
    f'Type="{OFFICE}/officeDocument" Target="xl/workbook.xml"/></Relationships>',
    "xl/workbook.xml": f'<workbook xmlns="{SPREADSHEET}" xmlns:r="{OFFICE}"><sheets>'
    '<sheet name="Actions" sheetId="1" r:id="rId1"/></sheets></workbook>',
    "xl/_rels/workbook.xml.rels": f'<Relationships xmlns="{PACKAGE}/relationships">'
    f'<Relationship Id="rId1" Type="{OFFICE}/worksheet" Target="worksheets/sheet1.xml"/>'
    "</Relationships>",
}


def _actions_sheet_of(rows: int) -> bytes:
    """A minimal workbook written directly (openpyxl would take seconds): the « Actions »
    headers, then ``rows`` rows holding a number in column A."""
    cells = [f'<row r="{i}"><c r="A{i}"><v>{i}</v></c></row>' for i in range(2, rows + 2)]
    sheet = (
        f'<worksheet xmlns="{SPREADSHEET}"><sheetData><row r="1">'
        '<c r="A1" t="inlineStr"><is><t>Référence</t></is></c>'
        '<c r="B1" t="inlineStr"><is><t>Intitulé</t></is></c></row>'
        + "".join(cells)
        + "</sheetData></worksheet>"
    )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in XLSX_PARTS.items():
            archive.writestr(name, text)
        archive.writestr("xl/worksheets/sheet1.xml", sheet)
    return out.getvalue()


def test_more_than_50000_rows_are_refused(client, world, monkeypatch):
    assert archive.MAX_ROWS == 50_000
    read = []
    real_rows = reader._Reader.rows

    def counted(self, *args):
        for row in real_rows(self, *args):
            read.append(row[0])
            yield row

    monkeypatch.setattr(reader._Reader, "rows", counted)
    before = _counts()
    _refused(_upload(client, world, _actions_sheet_of(50_001)), "plus de 50\u202f000 lignes")
    assert len(read) == 50_000  # every row up to the limit was checked, none after it
    assert _counts() == before
    # The minimal workbook is readable: within the limit, its rows are checked one by one.
    errors = _error(_upload(client, world, _actions_sheet_of(2)))
    assert [(e[0], e[1], e[2]) for e in errors] == [("Actions", 2, "B"), ("Actions", 3, "B")]


def test_the_row_limit_counts_every_sheet_and_skips_empty_rows(client, world, monkeypatch):
    monkeypatch.setattr(reader, "MAX_ROWS", 7)
    rows = _good_rows(world)  # 7 rows, plus the 3 example rows of the template
    wb = _filled(client, world, rows)
    wb["Actions"].append([None] * 12)  # empty rows do not count
    wb["Actions"].append(["  ", None])
    response = _upload(client, world, _bytes(wb))
    _refused(response, "plus de 7 lignes")
    monkeypatch.setattr(reader, "MAX_ROWS", 10)
    assert _upload(client, world, _bytes(wb)).status_code == 302


def test_existing_fiche_title_is_not_imported_twice(client, world):
    new_action(world, title="Atelier « bien vieillir »")
    errors = _error(_upload(client, world, _bytes(_filled(client, world))))
    assert [(e[0], e[1], e[2]) for e in errors] == [("Actions", 4, "B")]


def test_organisation_names_forgive_apostrophes_and_spaces(client, world):
    org = OrganisationFactory(name="Maison de santé de l'Étang")
    rows = _good_rows(world)
    rows["Actions"][1][3] = "  maison de santé  de l\u2019étang "
    response = _upload(client, world, _bytes(_filled(client, world, rows)))
    assert response.status_code == 302
    assert Action.objects.get(title="Atelier « bien vieillir »").lead_organisation == org


@pytest.mark.parametrize(
    "text, amount",
    [
        ("12 500,00 €", "12500.00"),
        ("12500,5", "12500.50"),
        ("1500", "1500"),
        ("12\u00a0500,00\u00a0€", "12500.00"),
        ("12\u202f500", "12500"),
        ("12.500,75", "12500.75"),
        ("12500.5", "12500.50"),
        ("€ 250", "250"),
        (" 0 ", "0"),
        ("3 000 euros", "3000"),
    ],
)
def test_french_amounts(text, amount):
    assert cells._money(text) == Decimal(amount)


def test_a_correct_file_too_big_for_the_page_goes_through_the_command(
    client, world, monkeypatch, tmp_path
):
    monkeypatch.setattr(import_views, "WEB_MAX_OBJECTS", 3)  # the good rows hold 7 objects
    content = _bytes(_filled(client, world))
    before = _counts()
    response = _upload(client, world, content)
    assert response.status_code == 400
    assert "contient 7 fiches, lignes budgétaires et demandes" in response.content.decode()
    assert "import_workbook" in response.content.decode()
    assert _counts() == before
    path = tmp_path / "fiches.xlsx"
    path.write_bytes(content)
    args = [str(path), f"--dispositif={world.programme.pk}"]
    with pytest.raises(CommandError):  # the actor must coordinate the programme
        call_command("import_workbook", *args, f"--utilisateur={world.copil.username}")
    assert _counts() == before
    call_command("import_workbook", *args, f"--utilisateur={world.coordinator.username}")
    assert world.programme.actions.count() == 2
    assert AuditEvent.objects.filter(event="import_workbook").count() == 1


def test_the_command_lists_errors_and_imports_nothing(client, world, tmp_path, capsys):
    wb = _template(client, world)
    wb[columns.ACTIONS].append(["A1", "Atelier", None, "Association inconnue"])
    path = tmp_path / "faux.xlsx"
    path.write_bytes(_bytes(wb))
    before = _counts()
    with pytest.raises(CommandError, match="1 erreur"):
        call_command(
            "import_workbook",
            str(path),
            f"--dispositif={world.programme.pk}",
            f"--utilisateur={world.coordinator.username}",
        )
    assert "Actions · 3 · D · Porteur" in capsys.readouterr().err
    assert _counts() == before


# --- worksheets checked before parsing: row numbers, columns, formulas, shared strings -----------

ACTIONS_XML = "xl/worksheets/sheet2.xml"  # openpyxl numbers the sheets in order
BUDGET_XML = "xl/worksheets/sheet3.xml"
LISTS_XML = "xl/worksheets/sheet5.xml"
ADVICE = (
    "ouvrez le classeur dans Excel ou LibreOffice et enregistrez-le, puis déposez-le à nouveau."
)


def _rezipped(content: bytes, edit) -> bytes:
    """``content`` with each member rewritten by ``edit(name, text) -> (name, text)``, as a
    script could write it (openpyxl would not write these forgeries)."""
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(content)) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for name in source.namelist():
            text = source.read(name).decode()
            target.writestr(*edit(name, text))
    return out.getvalue()


def _sheet_edited(content: bytes, member: str, edit) -> bytes:
    return _rezipped(content, lambda name, text: (name, edit(text) if name == member else text))


def _renumbered(row: int, number: str, cells: str | None = None):
    """Row ``row`` of a sheet's XML numbered ``number``, its cells ``cells`` (the same by
    default), as a script editing the XML would renumber it."""

    def renumber(match: re.Match) -> str:
        text = match[0].replace(f'<row r="{row}"', f'<row r="{number}"', 1)
        return re.sub(rf'(<c r="[A-Z]+){row}"', rf'\g<1>{cells or number}"', text)

    return lambda xml: re.sub(rf'<row r="{row}".*?</row>', renumber, xml, count=1, flags=re.S)


def _with_cells(row: int, cells: str):
    """Cells (XML) added at the end of row ``row`` of a sheet's XML."""

    def add(xml: str) -> str:
        start = xml.index(f'<row r="{row}"')
        end = xml.index("</row>", start)
        return xml[:end] + cells + xml[end:]

    return add


def _with_parts(content: bytes, parts: dict[str, str]) -> bytes:
    """``content`` with ``parts`` ({member: XML}) replacing or added to its members."""
    parts = dict(parts)
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(content)) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for name in source.namelist():
            target.writestr(name, parts.pop(name, None) or source.read(name))
        for name, text in parts.items():
            target.writestr(name, text)
    return out.getvalue()


FORGED_SHEETS = {
    # The 12 KB file that held a request 18 s (100,000,000: 158 s): openpyxl fills the gap.
    "row numbered 20,000,000": (
        _renumbered(4, "20000000"),
        "La feuille « Actions » a une ligne numérotée 20\u202f000\u202f000 : un classeur à "
        "importer s'arrête à la ligne 51\u202f000.",
    ),
    "row number written as a float": (
        _renumbered(4, "2e7", cells="4"),
        "a une ligne numérotée 20\u202f000\u202f000",
    ),
    "cell numbered 20,000,000": (
        _renumbered(4, "4", cells="20000000"),
        "a une ligne numérotée 20\u202f000\u202f000",
    ),
    "filled cell in column GS": (
        _with_cells(4, '<c r="GS4" t="n"><v>1</v></c>'),
        "La feuille « Actions » a une cellule remplie en colonne GS (GS4) : un classeur à "
        "importer s'arrête à la colonne GR.",
    ),
    "row number that is no number": (_renumbered(4, "quatre", cells="4"), "n'a pas pu être lu"),
}


@pytest.mark.parametrize("kind", FORGED_SHEETS)
def test_forged_row_numbers_and_columns_are_refused_before_parsing(client, world, no_parsing, kind):
    edit, words = FORGED_SHEETS[kind]
    content = _sheet_edited(_bytes(_filled(client, world)), ACTIONS_XML, edit)
    assert len(content) < 20 * 1024
    with pytest.raises(archive.FileRefused, match=re.escape(words)):
        archive.check_archive(io.BytesIO(content), len(content))
    before = _counts()
    _refused(_upload(client, world, content), words)
    assert _counts() == before


def test_rows_up_to_the_bound_and_empty_cells_far_right_are_accepted(client, world):
    """Blank rows before the last one and a cell holding only a style far to the right (as
    spreadsheet programs sometimes write) do no harm: the file is imported."""
    assert archive.MAX_ROW_NUMBER == 51_000 and archive.MAX_COLUMN == 200
    content = _sheet_edited(_bytes(_filled(client, world)), ACTIONS_XML, _renumbered(4, "51000"))
    content = _sheet_edited(content, ACTIONS_XML, _with_cells(3, '<c r="XFD3" s="0"/>'))
    response = _upload(client, world, content)
    assert response.status_code == 302
    assert world.programme.actions.count() == 2


def test_sheets_together_cannot_run_past_the_row_budget(client, world, no_parsing):
    """The reader looks for a value in every sheet it does not know: sheets each ending near
    the bound would add up (a thousand of them, or one sheet listed a thousand times)."""
    assert archive.MAX_ROW_NUMBERS == 100_000
    wb = _filled(client, world)
    for number in (1, 2, 3):
        wb.create_sheet(f"Vide {number}").row_dimensions[40_000].height = 20
    before = _counts()
    _refused(
        _upload(client, world, _bytes(wb)),
        "Les feuilles de ce classeur vont ensemble au-delà de 100\u202f000 lignes (la feuille "
        "« Vide 3 » va jusqu'à la ligne 40\u202f000)",
    )
    assert _counts() == before
    # One sheet listed three times in the workbook is read three times: it counts three times.
    parts = dict(XLSX_PARTS)
    parts["xl/workbook.xml"] = parts["xl/workbook.xml"].replace(
        "</sheets>",
        '<sheet name="Vide 1" sheetId="2" r:id="rId2"/><sheet name="Vide 2" sheetId="3" '
        'r:id="rId2"/><sheet name="Vide 3" sheetId="4" r:id="rId2"/></sheets>',
    )
    parts["xl/_rels/workbook.xml.rels"] = parts["xl/_rels/workbook.xml.rels"].replace(
        "</Relationships>",
        f'<Relationship Id="rId2" Type="{OFFICE}/worksheet" Target="worksheets/vide.xml"/>'
        "</Relationships>",
    )
    parts["xl/worksheets/vide.xml"] = (
        f'<worksheet xmlns="{SPREADSHEET}"><sheetData><row r="40000"/></sheetData></worksheet>'
    )
    content = _with_parts(_actions_sheet_of(2), parts)
    with pytest.raises(archive.FileRefused, match="« Vide 1 » va jusqu'à la ligne 40"):
        archive.check_archive(io.BytesIO(content), len(content))


def test_a_sheet_stored_anywhere_in_the_archive_is_checked():
    """Sheets are found as openpyxl finds them (the workbook and its relationships), not by
    the folder they usually sit in."""
    content = _with_parts(
        _actions_sheet_of(2),
        {
            "xl/_rels/workbook.xml.rels": XLSX_PARTS["xl/_rels/workbook.xml.rels"].replace(
                'Target="worksheets/sheet1.xml"', 'Target="/xl/donnees/feuille.xml"'
            ),
        },
    )
    content = _rezipped(
        content,
        lambda name, text: (
            ("xl/donnees/feuille.xml", _renumbered(3, "20000000")(text))
            if name == "xl/worksheets/sheet1.xml"
            else (name, text)
        ),
    )
    assert "xl/worksheets/sheet1.xml" not in zipfile.ZipFile(io.BytesIO(content)).namelist()
    assert load_workbook(io.BytesIO(content), read_only=True).sheetnames == ["Actions"]
    with pytest.raises(archive.FileRefused, match="« Actions » a une ligne numérotée 20"):
        archive.check_archive(io.BytesIO(content), len(content))


def test_a_formula_without_its_calculated_value_is_refused(client, world, no_parsing):
    """Read as empty, it would have made the fiche's own funds 0 without a word."""
    content = _sheet_edited(
        _bytes(_filled(client, world)), ACTIONS_XML, _with_cells(4, '<c r="L4"><f>L3*2</f></c>')
    )
    before = _counts()
    response = _upload(client, world, content)
    assert response.context["file_error"] == (
        f"La cellule Actions!L4 contient une formule sans valeur calculée : {ADVICE}"
    )
    _refused(response, "Actions!L4")
    assert _counts() == before


def test_formulas_with_their_values_and_outside_the_data_sheets_are_read(client, world):
    content = _sheet_edited(
        _bytes(_filled(client, world)),
        ACTIONS_XML,
        _with_cells(4, '<c r="L4"><f>1000+500</f><v>1500</v></c>'),
    )
    content = _sheet_edited(content, LISTS_XML, _with_cells(2, '<c r="Z2"><f>1+1</f></c>'))
    assert _upload(client, world, content).status_code == 302
    assert Action.objects.get(title="Atelier « bien vieillir »").own_funds == Decimal("1500")


def test_many_formulas_without_values_are_counted_and_the_first_listed(client, world, no_parsing):
    wb = _filled(client, world)
    wb["Budget"].title = "Lignes"
    wb["Lignes"].title = "BUDGET"  # sheet names forgive case, as the reader does
    rows = "".join(f'<row r="{n}"><c r="E{n}"><f>D{n}</f></c></row>' for n in range(10, 35))
    content = _sheet_edited(
        _bytes(wb), BUDGET_XML, lambda xml: xml.replace("</sheetData>", rows + "</sheetData>")
    )
    response = _upload(client, world, content)
    listed = ", ".join(f"BUDGET!E{n}" for n in range(10, 30))
    assert response.context["file_error"] == (
        f"25 cellules contiennent une formule sans valeur calculée ({listed}, …) : {ADVICE}"
    )
    _refused(response, "BUDGET!E29, …")


def _with_shared_strings(text_bytes: int, part: str = "xl/sharedStrings.xml") -> bytes:
    """The minimal workbook with its headers in shared strings stored at ``part``, padded with
    about ``text_bytes`` of text no cell uses."""
    strings = ["Référence", "Intitulé"] + [
        f"Texte {n} " + "x" * 90 for n in range(text_bytes // 100)
    ]
    sst = (
        f'<sst xmlns="{SPREADSHEET}" count="{len(strings)}" uniqueCount="{len(strings)}">'
        + "".join(f"<si><t>{s}</t></si>" for s in strings)
        + "</sst>"
    )
    parts = dict(XLSX_PARTS)
    parts["[Content_Types].xml"] = parts["[Content_Types].xml"].replace(
        "</Types>",
        f'<Override PartName="/{part}" ContentType="application/vnd.openxmlformats-'
        'officedocument.spreadsheetml.sharedStrings+xml"/></Types>',
    )
    parts["xl/_rels/workbook.xml.rels"] = parts["xl/_rels/workbook.xml.rels"].replace(
        "</Relationships>",
        f'<Relationship Id="rId2" Type="{OFFICE}/sharedStrings" Target="/{part}"/></Relationships>',
    )
    parts[part] = sst
    parts["xl/worksheets/sheet1.xml"] = (
        f'<worksheet xmlns="{SPREADSHEET}"><sheetData><row r="1"><c r="A1" t="s"><v>0</v></c>'
        '<c r="B1" t="s"><v>1</v></c></row><row r="2"><c r="A2"><v>2</v></c></row>'
        "</sheetData></worksheet>"
    )
    return _with_parts(_actions_sheet_of(0), parts)


@pytest.mark.parametrize("part", ["xl/sharedStrings.xml", "xl/textes.xml"])
def test_shared_strings_have_their_own_budget(client, world, no_parsing, monkeypatch, part):
    """190 MB of shared strings in a 4.5 MB file passed the overall budget (and cost 222 MB of
    memory): the shared strings, wherever the content types put them, have a smaller one."""
    assert 40 <= archive.MAX_SHARED_STRINGS_BYTES / 1024 / 1024 <= 60
    assert archive.MAX_SHARED_STRINGS_BYTES < archive.MAX_UNCOMPRESSED_BYTES
    content = _with_shared_strings(200_000, part)
    assert load_workbook(io.BytesIO(content), read_only=True)["Actions"]["A1"].value == "Référence"
    size = zipfile.ZipFile(io.BytesIO(content)).getinfo(part).file_size
    monkeypatch.setattr(archive, "MAX_SHARED_STRINGS_BYTES", size)
    archive.check_archive(io.BytesIO(content), len(content))  # within the budget
    monkeypatch.setattr(archive, "MAX_SHARED_STRINGS_BYTES", size - 1)
    before = _counts()
    _refused(
        _upload(client, world, content),
        "Les textes de ce classeur pèseraient 0,2 Mo une fois décompressés",
    )
    assert _counts() == before
