"""Import of existing fiches actions, budget lines and funding requests from a workbook.

Reading and checking only: nothing here writes to the database (``workflows.imports`` does,
through the services). The coordinator downloads ``write_template``'s workbook (French
headers, one example row per sheet, an « Explications » sheet and the programme's « Listes »),
fills it and uploads it; ``read_workbook`` checks the whole file and returns either the rows
to create or every error found, each with its sheet, row (as the spreadsheet numbers it),
column and a French message.

The file is untrusted. Before openpyxl touches it (``check_archive``):
- at most ``MAX_FILE_BYTES`` (10 MB);
- a zip archive holding an Excel workbook (not an old ``.xls``, not a ``.ods`` or ``.csv``);
- no zip bomb: at most ``MAX_MEMBERS`` members, their declared uncompressed sizes add up to at
  most ``MAX_UNCOMPRESSED_BYTES``, and no large member inflates more than ``MAX_RATIO`` times.
  Declared sizes can be trusted as bounds: Python's ``zipfile`` never inflates a member beyond
  its declared size (a member that lies fails its CRC check, and the file is refused).
Then openpyxl reads it in read-only (streaming) mode, with the columns bounded by the headers
(a forged sheet dimension cannot make rows huge), and counts the rows: past ``MAX_ROWS``
non-empty data rows (all sheets together) the file is refused at once, without reading on.
"""

from __future__ import annotations

import datetime
import logging
import re
import unicodedata
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from itertools import zip_longest
from typing import IO, BinaryIO

from django.conf import settings
from django.utils import translation
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from openpyxl import Workbook, load_workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from projects.models import Action, Objective, Organisation, ParticipationLevel, WorkingGroup

from .exports import BOLD, FORMULA_START, _Sheet, for_file_name
from .models import BudgetLine

logger = logging.getLogger(__name__)

MAX_FILE_BYTES = 10 * 1024 * 1024
MAX_ROWS = 50_000
MAX_MEMBERS = 1_000
# A 50,000-row workbook of the template's columns inflates to about 40 MB (sheet XML and
# shared strings); 200 MB leaves room for wide text without letting a bomb through.
MAX_UNCOMPRESSED_BYTES = 200 * 1024 * 1024
# Spreadsheet XML deflates 5 to 30 times; a run of zeros deflates 1,000 times.
MAX_RATIO = 100
RATIO_MIN_BYTES = 1024 * 1024  # small members are not ratio-checked (tiny files vary widely)
MAX_COLUMNS = 60  # cells read from the header row
MAX_MONEY = Decimal("9999999999.99")  # the amount columns: 12 digits, 2 decimals
YEARS = (1990, 2100)
EXAMPLE_REFERENCE = "EXEMPLE"

ACTIONS = "Actions"
BUDGET = "Budget"
FUNDING = "Financements"
EXPLANATIONS = "Explications"
LISTS = "Listes"
DATA_SHEETS = (ACTIONS, BUDGET, FUNDING)
SHEETS = (EXPLANATIONS, *DATA_SHEETS, LISTS)

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class FileRefused(Exception):
    """The whole file is refused before its rows are looked at (size, format, zip bomb,
    too many rows); ``message`` says why, in French."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class CellError:
    sheet: str
    row: int | None  # as the spreadsheet numbers it (the header is row 1)
    column: str  # letter, "" when the error is about the whole row or sheet
    header: str
    message: str


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    kind: str  # text | money | date | year | objective | organisation | group | level | category
    required: bool = False
    width: int = 20
    max_length: int | None = None
    fmt: str = ""  # the format expected, for the « Explications » sheet
    notes: str = ""


REFERENCE_NOTE = (
    "Un code de votre choix, unique dans la feuille Actions (par exemple A1, A2…). Il relie "
    "les lignes des feuilles Budget et Financements à leur fiche ; il n'est pas conservé "
    "dans Coordo. La ligne dont la référence est EXEMPLE est ignorée : vous pouvez la laisser."
)
MONEY_FORMAT = "Montant en euros : 12 500,00 € ou 12500,5 ou un nombre Excel ; jamais négatif"
DATE_FORMAT = "Date jj/mm/aaaa (15/01/2026) ou date Excel"
YEAR_FORMAT = "Année sur quatre chiffres (2026)"
ORGANISATION_NOTE = (
    "Nom exact d'une organisation partenaire enregistrée dans Coordo (feuille Listes, "
    "colonne B). Une organisation absente de la liste est ajoutée par l'administrateur."
)

# Budget and funding rows name their fiche by its reference in the « Actions » sheet.
FICHE_REFERENCE = Column(
    "reference",
    "Référence de la fiche",
    "text",
    True,
    12,
    50,
    "Texte court",
    "La référence de la fiche dans la feuille Actions.",
)
COLUMNS: dict[str, tuple[Column, ...]] = {
    ACTIONS: (
        Column("reference", "Référence", "text", True, 12, 50, "Texte court", REFERENCE_NOTE),
        Column("title", "Intitulé", "text", True, 45, 300, "Texte (300 caractères au plus)"),
        Column(
            "objective",
            "Objectif",
            "objective",
            width=40,
            fmt="« numéro d'axe · intitulé » tel qu'en feuille Listes (colonne A)",
            notes="L'intitulé seul suffit s'il est unique dans le dispositif.",
        ),
        Column("lead_organisation", "Porteur", "organisation", width=30, notes=ORGANISATION_NOTE),
        Column(
            "working_group",
            "Groupe de travail",
            "group",
            width=25,
            notes="Nom d'un groupe de travail du dispositif (feuille Listes, colonne C).",
        ),
        Column(
            "participation_level",
            "Niveau de participation",
            "level",
            width=22,
            notes="Vide : Consultation. Valeurs : feuille Listes, colonne E.",
        ),
        Column("target_public", "Public visé", "text", width=30, fmt="Texte"),
        Column("territory", "Territoire", "text", width=25, max_length=300, fmt="Texte"),
        Column(
            "context",
            "Contexte et besoins",
            "text",
            width=40,
            fmt="Texte",
            notes="Jamais de données nominatives de patients ou d'usagers (Coordo n'est pas "
            "un hébergement de données de santé).",
        ),
        Column("planned_start", "Début prévu", "date", width=13, fmt=DATE_FORMAT),
        Column(
            "planned_end",
            "Fin prévue",
            "date",
            width=13,
            fmt=DATE_FORMAT,
            notes="Au plus tôt le début prévu.",
        ),
        Column("own_funds", "Fonds propres", "money", width=15, fmt=MONEY_FORMAT),
    ),
    BUDGET: (
        FICHE_REFERENCE,
        Column("year", "Année", "year", True, 8, fmt=YEAR_FORMAT),
        Column(
            "category",
            "Catégorie",
            "category",
            True,
            26,
            notes="Valeurs : feuille Listes, colonne D. Une seule ligne par fiche, année et "
            "catégorie.",
        ),
        Column("planned", "Prévisionnel", "money", True, 15, fmt=MONEY_FORMAT),
        Column("actual", "Réalisé", "money", width=15, fmt=MONEY_FORMAT, notes="Vide : 0."),
    ),
    FUNDING: (
        FICHE_REFERENCE,
        Column("funder", "Financeur", "organisation", True, 30, notes=ORGANISATION_NOTE),
        Column(
            "scheme",
            "Dispositif de financement",
            "text",
            True,
            28,
            200,
            "Texte (200 caractères au plus)",
            "Par exemple : FIR prévention, politique de la ville, CPAM prévention.",
        ),
        Column("year", "Année", "year", True, 8, fmt=YEAR_FORMAT),
        Column("requested_amount", "Montant demandé", "money", True, 16, fmt=MONEY_FORMAT),
    ),
}


# --- what read_workbook returns ----------------------------------------------------------------


@dataclass
class ActionRow:
    row: int
    reference: str
    data: dict  # Action.FICHE_FIELDS -> value, ready for services.create_action


@dataclass
class BudgetRow:
    row: int
    reference: str
    year: int
    category: str
    planned: Decimal
    actual: Decimal


@dataclass
class RequestRow:
    row: int
    reference: str
    funder: Organisation
    scheme: str
    year: int
    requested_amount: Decimal


@dataclass
class ParsedImport:
    actions: list[ActionRow] = field(default_factory=list)
    budget_lines: list[BudgetRow] = field(default_factory=list)
    requests: list[RequestRow] = field(default_factory=list)
    errors: list[CellError] = field(default_factory=list)


# --- before parsing: size, format, zip bomb ----------------------------------------------------


def check_archive(file: IO[bytes], size: int) -> None:
    """Refuse (``FileRefused``) what must not reach openpyxl. ``file`` is rewound."""
    if size > MAX_FILE_BYTES:
        raise FileRefused(
            _("Le fichier pèse {size} Mo : la limite est de {limit} Mo.").format(
                size=_megabytes(size), limit=MAX_FILE_BYTES // (1024 * 1024)
            )
        )
    file.seek(0)
    magic = file.read(8)
    file.seek(0)
    if magic.startswith(b"\xd0\xcf\x11\xe0"):
        raise FileRefused(
            _(
                "Ce fichier est au format Excel 97-2003 (.xls) : ouvrez-le et enregistrez-le au "
                "format « Classeur Excel (.xlsx) », puis déposez-le à nouveau."
            )
        )
    not_xlsx = FileRefused(
        _(
            "Ce fichier n'est pas un classeur Excel (.xlsx). Partez du modèle à télécharger sur "
            "cette page et enregistrez-le au format « Classeur Excel (.xlsx) »."
        )
    )
    if not magic.startswith(b"PK"):
        raise not_xlsx
    try:
        with zipfile.ZipFile(file) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError) as exc:
        raise not_xlsx from exc
    finally:
        file.seek(0)
    names = {m.filename for m in members}
    if "[Content_Types].xml" not in names or "xl/workbook.xml" not in names:
        raise not_xlsx
    bomb = FileRefused(
        _(
            "Ce fichier a une structure anormale (une fois décompressé, il serait démesuré) : "
            "il est refusé. Enregistrez vos données dans le modèle et déposez-le à nouveau."
        )
    )
    if len(members) > MAX_MEMBERS:
        raise bomb
    total = 0
    for member in members:
        total += member.file_size
        if total > MAX_UNCOMPRESSED_BYTES:
            raise bomb
        if member.file_size > RATIO_MIN_BYTES and member.file_size > MAX_RATIO * max(
            member.compress_size, 1
        ):
            raise bomb


def _megabytes(size: int) -> str:
    value = Decimal(size) / (1024 * 1024)
    return f"{value.quantize(Decimal('0.1'), rounding=ROUND_HALF_UP)}".replace(".", ",")


# --- values -------------------------------------------------------------------------------------


class _Bad(Exception):
    """A cell that cannot be read; the message is for the person who typed it."""


def _key(text: str) -> str:
    """How names are compared: case, surrounding and repeated spaces, typographic apostrophes
    (Excel's autocorrect) do not matter."""
    text = unicodedata.normalize("NFC", text).replace("\u2019", "'").replace("\u02bc", "'")
    return " ".join(text.split()).casefold()


def _header_key(text: str) -> str:
    """Headers also forgive accents and the ``*`` marking required columns."""
    text = unicodedata.normalize("NFKD", _key(text).rstrip("* ").strip())
    return "".join(c for c in text if not unicodedata.combining(c))


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "VRAI" if value else "FAUX"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime.datetime):
        value = value.date()
    if isinstance(value, datetime.date):
        return value.strftime("%d/%m/%Y")
    return str(value).strip()


def _is_empty(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


_NUMBER_FR = re.compile(r"^\d+(,\d+)?$")  # 12500 or 12500,5
_NUMBER_DOTTED = re.compile(r"^\d{1,3}(\.\d{3})+(,\d+)?$")  # 12.500,00
_NUMBER_POINT = re.compile(r"^\d+\.\d{1,2}$")  # 12500.5 (decimal point)
_SPACES = re.compile(r"\s+")  # includes non-breaking and narrow non-breaking spaces
_EURO = re.compile(r"^€|(€|eur(os?)?)$", re.IGNORECASE)


def _money(value) -> Decimal:
    if isinstance(value, bool):
        raise _Bad(_("Montant attendu, par exemple 12 500,00 €."))
    if isinstance(value, int | float | Decimal):
        amount = Decimal(str(value))
        if not amount.is_finite():
            raise _Bad(_("Montant attendu, par exemple 12 500,00 €."))
        amount = amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    elif isinstance(value, str):
        text = _SPACES.sub("", value)
        text = _EURO.sub("", text)
        negative = text.startswith("-")
        digits = text.lstrip("-+")
        if _NUMBER_FR.match(digits):
            number = digits.replace(",", ".")
        elif _NUMBER_DOTTED.match(digits):
            number = digits.replace(".", "").replace(",", ".")
        elif _NUMBER_POINT.match(digits):
            number = digits
        else:
            raise _Bad(
                _("« {value} » n'est pas un montant lisible (par exemple 12 500,00 €).").format(
                    value=value.strip()
                )
            )
        amount = Decimal(number)
        if negative and amount:
            amount = -amount
        if amount.as_tuple().exponent < -2:
            raise _Bad(_("Deux décimales au plus (les centimes)."))
    else:
        raise _Bad(_("Montant attendu, par exemple 12 500,00 €."))
    if amount < 0:
        raise _Bad(_("Un montant ne peut pas être négatif."))
    if amount > MAX_MONEY:
        raise _Bad(
            _("Montant trop élevé : au plus {max} €.").format(
                max=number_format(MAX_MONEY, decimal_pos=2, use_l10n=True, force_grouping=True)
            )
        )
    return amount


_DATE_FR = re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$")
_DATE_ISO = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")


def _date(value) -> datetime.date:
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    expected = _("Date attendue au format jj/mm/aaaa, par exemple 15/01/2026.")
    if not isinstance(value, str):
        raise _Bad(expected)
    text = value.strip()
    if match := _DATE_FR.match(text):
        day, month, year = (int(g) for g in match.groups())
    elif match := _DATE_ISO.match(text):
        year, month, day = (int(g) for g in match.groups())
    else:
        raise _Bad(
            _("« {value} » n'est pas une date lisible. {expected}").format(
                value=text, expected=expected
            )
        )
    try:
        return datetime.date(year, month, day)
    except ValueError as exc:
        raise _Bad(_("Le {value} n'existe pas.").format(value=text)) from exc


def _year(value) -> int:
    expected = _("Année attendue sur quatre chiffres, par exemple 2026.")
    if isinstance(value, bool):
        raise _Bad(expected)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if not isinstance(value, int):
        raise _Bad(expected)
    if not YEARS[0] <= value <= YEARS[1]:
        raise _Bad(
            _("Année {year} hors de la période acceptée ({first}–{last}).").format(
                year=value, first=YEARS[0], last=YEARS[1]
            )
        )
    return value


class _Lookups:
    """The programme's names, read once: objectives, organisations, groups, choices."""

    def __init__(self, programme):
        self.objectives: dict[str, list[Objective]] = {}
        for objective in Objective.objects.filter(axis__programme=programme).select_related("axis"):
            n, title = objective.axis.number, objective.title
            for label in (title, f"{n} · {title}", f"{n}. {title}", f"{n} - {title}"):
                found = self.objectives.setdefault(_key(label), [])
                if objective not in found:
                    found.append(objective)
        self.organisations: dict[str, list[Organisation]] = {}
        for organisation in Organisation.objects.all():
            self.organisations.setdefault(_key(organisation.name), []).append(organisation)
        self.groups = {_key(g.name): g for g in WorkingGroup.objects.filter(programme=programme)}
        self.levels = _choices(ParticipationLevel.choices)
        self.categories = _choices(BudgetLine.Category.choices)
        self.existing_titles = {
            _key(t)
            for t in Action.objects.filter(programme=programme).values_list("title", flat=True)
        }

    def objective(self, text: str) -> Objective:
        found = self.objectives.get(_key(text), [])
        if not found:
            raise _Bad(
                _(
                    "Objectif « {value} » inconnu dans ce dispositif : recopiez-le depuis la "
                    "feuille Listes (colonne A)."
                ).format(value=text)
            )
        if len(found) > 1:
            raise _Bad(
                _(
                    "Plusieurs objectifs s'intitulent « {value} » : précisez le numéro d'axe, "
                    "comme dans la feuille Listes (« 1 · {value} »)."
                ).format(value=text)
            )
        return found[0]

    def organisation(self, text: str) -> Organisation:
        found = self.organisations.get(_key(text), [])
        if len(found) != 1:
            raise _Bad(
                _(
                    "Organisation « {value} » inconnue : utilisez le nom exact d'une organisation "
                    "de la feuille Listes (colonne B) ; l'administrateur ajoute les nouvelles."
                ).format(value=text)
            )
        return found[0]

    def group(self, text: str) -> WorkingGroup:
        try:
            return self.groups[_key(text)]
        except KeyError:
            raise _Bad(
                _(
                    "Groupe de travail « {value} » inconnu dans ce dispositif (feuille Listes, "
                    "colonne C)."
                ).format(value=text)
            ) from None


def _choices(choices) -> dict[str, str]:
    keys = {}
    for value, label in choices:
        keys[_key(value)] = value
        keys[_key(str(label))] = value
    return keys


def _choice(mapping: dict[str, str], text: str, choices) -> str:
    try:
        return mapping[_key(text)]
    except KeyError:
        allowed = ", ".join(str(label) for _, label in choices)
        raise _Bad(
            _("« {value} » n'est pas une valeur possible ({allowed}).").format(
                value=text, allowed=allowed
            )
        ) from None


def _convert(column: Column, raw, lookups: _Lookups):
    """The value of a non-empty cell for ``column``, or ``_Bad``."""
    kind = column.kind
    if kind == "money":
        return _money(raw)
    if kind == "date":
        return _date(raw)
    if kind == "year":
        return _year(raw)
    text = _text(raw)
    if kind == "text":
        if column.max_length and len(text) > column.max_length:
            raise _Bad(
                _("{n} caractères : {max} au plus.").format(n=len(text), max=column.max_length)
            )
        return text
    if kind == "objective":
        return lookups.objective(text)
    if kind == "organisation":
        return lookups.organisation(text)
    if kind == "group":
        return lookups.group(text)
    if kind == "level":
        return _choice(lookups.levels, text, ParticipationLevel.choices)
    if kind == "category":
        return _choice(lookups.categories, text, BudgetLine.Category.choices)
    raise ValueError(kind)


# --- reading ------------------------------------------------------------------------------------


class _Reader:
    """One pass over the data sheets, collecting rows and errors."""

    def __init__(self, programme):
        self.lookups = _Lookups(programme)
        self.result = ParsedImport()
        self.rows_seen = 0

    def error(self, sheet: str, row: int | None, column: Column | None, message: str, index=None):
        letter = get_column_letter(index + 1) if index is not None else ""
        header = column.header if column else ""
        self.result.errors.append(CellError(sheet, row, letter, header, message))

    def headers(self, sheet: str, ws) -> dict[str, int] | None:
        """{column key: index} from row 1, or None when the header row is unusable."""
        first = next(ws.iter_rows(min_row=1, max_row=1, max_col=MAX_COLUMNS, values_only=True), ())
        known = {_header_key(c.header): c for c in COLUMNS[sheet]}
        positions: dict[str, int] = {}
        ok = True
        for index, value in enumerate(first):
            if _is_empty(value):
                continue
            column = known.get(_header_key(_text(value)))
            letter = get_column_letter(index + 1)
            if column is None:
                expected = ", ".join(c.header for c in COLUMNS[sheet])
                self.result.errors.append(
                    CellError(
                        sheet,
                        1,
                        letter,
                        _text(value),
                        _("Colonne « {value} » inconnue. Colonnes attendues : {expected}.").format(
                            value=_text(value), expected=expected
                        ),
                    )
                )
                ok = False
            elif column.key in positions:
                self.error(sheet, 1, column, _("Cette colonne figure deux fois."), index)
                ok = False
            else:
                positions[column.key] = index
        for column in COLUMNS[sheet]:
            if column.required and column.key not in positions:
                self.error(
                    sheet,
                    1,
                    column,
                    _("Colonne obligatoire « {header} » absente de la ligne 1.").format(
                        header=column.header
                    ),
                )
                ok = False
        return positions if ok else None

    def rows(self, sheet: str, ws, positions: dict[str, int]) -> Iterator[tuple[int, dict, bool]]:
        """(row number, {key: converted value}, no error so far) of each non-empty data row;
        conversion errors are recorded and their key is left out."""
        width = max(positions.values()) + 1
        columns = [c for c in COLUMNS[sheet] if c.key in positions]
        required = {
            c.key: _("« {header} » est obligatoire.").format(header=c.header) for c in columns
        }
        example = _key(EXAMPLE_REFERENCE)
        for number, values in enumerate(
            ws.iter_rows(min_row=2, max_col=width, values_only=True), start=2
        ):
            if all(_is_empty(v) for v in values):
                continue
            self.rows_seen += 1
            if self.rows_seen > MAX_ROWS:
                raise FileRefused(
                    _(
                        "Le classeur compte plus de {max} lignes : découpez-le en plusieurs "
                        "fichiers."
                    ).format(max=f"{MAX_ROWS:,}".replace(",", "\u202f"))
                )
            reference = values[positions["reference"]]
            if isinstance(reference, str) and _key(reference) == example:
                continue
            converted: dict = {}
            errors_before = len(self.result.errors)
            for column in columns:
                index = positions[column.key]
                raw = values[index] if index < len(values) else None
                if _is_empty(raw):
                    if column.required:
                        self.error(sheet, number, column, required[column.key], index)
                    continue
                try:
                    converted[column.key] = _convert(column, raw, self.lookups)
                except _Bad as exc:
                    self.error(sheet, number, column, str(exc), index)
            yield number, converted, len(self.result.errors) == errors_before

    def actions(self, ws, positions) -> dict[str, int]:
        """Read the fiches; returns {reference key: row} of every reference seen."""
        references: dict[str, int] = {}
        column = {c.key: c for c in COLUMNS[ACTIONS]}
        for number, values, ok in self.rows(ACTIONS, ws, positions):
            errors_before = len(self.result.errors)
            reference = values.get("reference")
            reference_key = _key(reference) if reference else ""
            if reference:
                first = references.get(reference_key)
                if first:
                    self.error(
                        ACTIONS,
                        number,
                        column["reference"],
                        _("Référence « {ref} » déjà utilisée ligne {row}.").format(
                            ref=reference, row=first
                        ),
                        positions["reference"],
                    )
                else:
                    references[reference_key] = number
            title = values.get("title")
            if title and _key(title) in self.lookups.existing_titles:
                self.error(
                    ACTIONS,
                    number,
                    column["title"],
                    _(
                        "Une fiche « {title} » existe déjà dans ce dispositif : a-t-elle déjà été "
                        "importée ?"
                    ).format(title=title),
                    positions["title"],
                )
            start, end = values.get("planned_start"), values.get("planned_end")
            if start and end and end < start:
                self.error(
                    ACTIONS,
                    number,
                    column["planned_end"],
                    _("La fin prévue ({end}) précède le début prévu ({start}).").format(
                        end=f"{end:%d/%m/%Y}", start=f"{start:%d/%m/%Y}"
                    ),
                    positions["planned_end"],
                )
            if ok and len(self.result.errors) == errors_before:
                data = {name: None for name in Action.FICHE_FIELDS}
                data.update(
                    context="",
                    target_public="",
                    territory="",
                    participation_level=ParticipationLevel.CONSULTATION,
                    own_funds=Decimal("0"),
                )
                data.update({k: v for k, v in values.items() if k in data})
                self.result.actions.append(ActionRow(number, reference_key, data))
        return references

    def budget(self, ws, positions, references: dict[str, int]) -> None:
        column = {c.key: c for c in COLUMNS[BUDGET]}
        seen: dict[tuple, int] = {}
        for number, values, ok in self.rows(BUDGET, ws, positions):
            errors_before = len(self.result.errors)
            reference = self._reference(BUDGET, number, values, positions, references)
            year, category = values.get("year"), values.get("category")
            if reference and year and category:
                first = seen.setdefault((reference, year, category), number)
                if first != number:
                    self.error(
                        BUDGET,
                        number,
                        column["category"],
                        _(
                            "Ligne en double : la fiche « {ref} » a déjà une ligne {year} "
                            "« {category} » (ligne {row})."
                        ).format(
                            ref=values["reference"],
                            year=year,
                            category=BudgetLine.Category(category).label,
                            row=first,
                        ),
                        positions["category"],
                    )
            if ok and len(self.result.errors) == errors_before:
                self.result.budget_lines.append(
                    BudgetRow(
                        number,
                        reference,
                        year,
                        category,
                        values["planned"],
                        values.get("actual", Decimal("0")),
                    )
                )

    def funding(self, ws, positions, references: dict[str, int]) -> None:
        for number, values, ok in self.rows(FUNDING, ws, positions):
            errors_before = len(self.result.errors)
            reference = self._reference(FUNDING, number, values, positions, references)
            if ok and len(self.result.errors) == errors_before:
                self.result.requests.append(
                    RequestRow(
                        number,
                        reference,
                        values["funder"],
                        values["scheme"],
                        values["year"],
                        values["requested_amount"],
                    )
                )

    def _reference(self, sheet, number, values, positions, references) -> str:
        reference = values.get("reference")
        if not reference:
            return ""
        if _key(reference) not in references:
            self.error(
                sheet,
                number,
                COLUMNS[sheet][0],
                _("Aucune fiche de référence « {ref} » dans la feuille Actions.").format(
                    ref=reference
                ),
                positions["reference"],
            )
        return _key(reference)


def read_workbook(file: IO[bytes], *, size: int, programme) -> ParsedImport:
    """Check and read an uploaded workbook for ``programme``. Raises ``FileRefused`` for a
    file refused as a whole; otherwise returns the rows and every error found (the rows are
    only to be imported when there is no error at all)."""
    check_archive(file, size)
    try:
        workbook = load_workbook(file, read_only=True, data_only=True, keep_links=False)
    except FileRefused:
        raise
    except Exception as exc:  # untrusted input: whatever openpyxl trips on
        logger.info("Unreadable workbook: %r", exc)
        raise _unreadable() from exc
    try:
        return _read(workbook, programme)
    except FileRefused:
        raise
    except Exception as exc:
        logger.info("Unreadable workbook: %r", exc)
        raise _unreadable() from exc
    finally:
        workbook.close()


def _has_values(ws) -> bool:
    """Whether a sheet holds anything (an empty « Feuil1 » left in the file does no harm)."""
    ws.reset_dimensions()
    rows = ws.iter_rows(max_col=MAX_COLUMNS, values_only=True)
    return any(not _is_empty(v) for row in rows for v in row)


def _unreadable() -> FileRefused:
    return FileRefused(
        _(
            "Ce classeur n'a pas pu être lu. Enregistrez-le au format « Classeur Excel (.xlsx) » "
            "depuis Excel ou LibreOffice, en partant du modèle, puis déposez-le à nouveau."
        )
    )


def _read(workbook, programme) -> ParsedImport:
    reader = _Reader(programme)
    result = reader.result
    by_key = {_header_key(name): name for name in workbook.sheetnames}
    known = {_header_key(s) for s in SHEETS}
    for name in workbook.sheetnames:
        if _header_key(name) not in known and _has_values(workbook[name]):
            result.errors.append(
                CellError(
                    name,
                    None,
                    "",
                    "",
                    _(
                        "Feuille « {name} » inconnue : ses données ne seraient pas importées. "
                        "Les feuilles lues sont {sheets}."
                    ).format(name=name, sheets=", ".join(DATA_SHEETS)),
                )
            )
    if _header_key(ACTIONS) not in by_key:
        result.errors.append(
            CellError(ACTIONS, None, "", "", _("La feuille « Actions » est absente du classeur."))
        )
    sheets = {}
    for sheet in DATA_SHEETS:
        name = by_key.get(_header_key(sheet))
        if name is None:
            continue
        ws = workbook[name]
        ws.reset_dimensions()  # never trust the dimension the file declares
        positions = reader.headers(sheet, ws)
        sheets[sheet] = (ws, positions)
    if result.errors:
        return result  # without usable sheets and headers, rows would only add noise
    references = reader.actions(*sheets[ACTIONS])
    if BUDGET in sheets:
        reader.budget(*sheets[BUDGET], references)
    if FUNDING in sheets:
        reader.funding(*sheets[FUNDING], references)
    if not result.errors and not result.actions:
        result.errors.append(
            CellError(
                ACTIONS,
                None,
                "",
                "",
                _("La feuille « Actions » ne contient aucune fiche à importer."),
            )
        )
    return result


# --- the template -------------------------------------------------------------------------------

GENERAL_RULES = (
    "Modèle d'import des fiches actions et de leurs financements dans Coordo",
    "Remplissez une ligne par fiche action dans la feuille Actions, puis, si vous le souhaitez, "
    "leurs lignes budgétaires (feuille Budget) et leurs demandes de financement (feuille "
    "Financements), reliées à la fiche par sa référence.",
    "Les fiches importées arrivent à l'état « Brouillon » et les demandes de financement à "
    "l'état « Brouillon » : la suite de leur cycle de vie (co-construction, COPIL, dépôt des "
    "demandes, décisions des financeurs…) se fait ensuite dans Coordo.",
    "Le fichier est vérifié en entier avant tout enregistrement : si une seule ligne est "
    "fausse, rien n'est importé et chaque erreur est indiquée (feuille, ligne, colonne).",
    "Montants : 12 500,00 € ou 12500,5 ou un nombre Excel. Dates : jj/mm/aaaa ou date Excel. "
    "Les espaces autour des valeurs sont ignorés, les lignes vides aussi.",
    "Ne renommez ni les feuilles ni les en-têtes ; n'ajoutez pas d'autre feuille. Les colonnes "
    "marquées * sont obligatoires. Limites : 10 Mo et 50 000 lignes par fichier.",
    "Aucune donnée nominative de patient ou d'usager : Coordo n'est pas un hébergement de "
    "données de santé (HDS).",
)


def write_template(*, programme, out: BinaryIO) -> None:
    """The import template for ``programme``, in French whatever the reader's language."""
    with translation.override(settings.LANGUAGE_CODE):
        _write_template(programme, out)


def _write_template(programme, out: BinaryIO) -> None:
    workbook = Workbook(write_only=True)
    lists = _lists(programme)
    _write_explanations(workbook)
    examples = _examples(programme, lists)
    for sheet in DATA_SHEETS:
        columns = COLUMNS[sheet]
        ws_sheet = _Sheet(
            workbook,
            sheet,
            [
                (f"{c.header} *" if c.required else c.header, _template_kind(c), c.width)
                for c in columns
            ],
        )
        ws_sheet.append([examples[sheet].get(c.key) for c in columns])
        last = get_column_letter(len(columns))
        ws_sheet.ws.auto_filter.ref = f"A1:{last}2"
        _add_dropdowns(ws_sheet.ws, columns, lists)
    listing = _Sheet(
        workbook,
        LISTS,
        [
            ("Objectifs (axe · intitulé)", "text", 50),
            ("Organisations partenaires", "text", 40),
            ("Groupes de travail", "text", 30),
            ("Catégories budgétaires", "text", 28),
            ("Niveaux de participation", "text", 24),
        ],
    )
    for row in zip_longest(*lists.values(), fillvalue=None):
        listing.append(row)
    workbook.save(out)


def _template_kind(column: Column) -> str:
    return {"money": "money", "date": "date", "year": "int"}.get(column.kind, "text")


def _lists(programme) -> dict[str, list[str]]:
    objectives = Objective.objects.filter(axis__programme=programme).select_related("axis")
    return {
        "objective": [
            f"{o.axis.number} · {o.title}" for o in objectives.order_by("axis__number", "id")
        ],
        "organisation": list(Organisation.objects.order_by("name").values_list("name", flat=True)),
        "group": list(programme.working_groups.order_by("name").values_list("name", flat=True)),
        "category": [str(label) for _, label in BudgetLine.Category.choices],
        "level": [str(label) for _, label in ParticipationLevel.choices],
    }


LIST_COLUMNS = {"objective": "A", "organisation": "B", "group": "C", "category": "D", "level": "E"}


def _add_dropdowns(ws, columns: Iterable[Column], lists: dict[str, list[str]]) -> None:
    """Drop-down lists from the « Listes » sheet (a warning only: other spellings that the
    import understands, such as an objective's title alone, stay possible)."""
    for index, column in enumerate(columns, start=1):
        kind = column.kind
        if kind not in LIST_COLUMNS or not lists[kind]:
            continue
        letter = LIST_COLUMNS[kind]
        validation = DataValidation(
            type="list",
            formula1=f"{LISTS}!${letter}$2:${letter}${len(lists[kind]) + 1}",
            allow_blank=True,
            showErrorMessage=True,
            errorStyle="warning",
            error="Valeur absente de la feuille Listes : l'import la refusera sans doute.",
        )
        target = get_column_letter(index)
        validation.add(f"{target}2:{target}{MAX_ROWS + 1}")
        ws.data_validations.append(validation)


def _examples(programme, lists: dict[str, list[str]]) -> dict[str, dict]:
    first = {kind: (values[0] if values else "") for kind, values in lists.items()}
    funder = (
        Organisation.objects.filter(kind="ars").order_by("name").values_list("name", flat=True)
    ).first() or first["organisation"]
    return {
        ACTIONS: {
            "reference": EXAMPLE_REFERENCE,
            "title": "Exemple : permanences d'accès aux droits de santé en quartier prioritaire",
            "objective": first["objective"],
            "lead_organisation": first["organisation"],
            "working_group": first["group"],
            "participation_level": str(ParticipationLevel.CO_CONSTRUCTION.label),
            "target_public": "Habitants des quartiers prioritaires",
            "territory": programme.territory,
            "context": "Renoncement aux soins constaté par les partenaires du territoire.",
            "planned_start": datetime.date(2026, 1, 15),
            "planned_end": datetime.date(2026, 12, 31),
            "own_funds": Decimal("1500"),
        },
        BUDGET: {
            "reference": EXAMPLE_REFERENCE,
            "year": 2026,
            "category": str(BudgetLine.Category.STAFF.label),
            "planned": Decimal("12500"),
            "actual": Decimal("0"),
        },
        FUNDING: {
            "reference": EXAMPLE_REFERENCE,
            "funder": funder,
            "scheme": "FIR prévention",
            "year": 2026,
            "requested_amount": Decimal("11000"),
        },
    }


def _write_explanations(workbook: Workbook) -> None:
    ws = workbook.create_sheet(EXPLANATIONS)
    for letter, width in zip("ABCDEF", (16, 26, 12, 44, 30, 70), strict=True):
        ws.column_dimensions[letter].width = width
    ws.append([_cell(ws, GENERAL_RULES[0], bold=True)])
    for line in GENERAL_RULES[1:]:
        ws.append([_cell(ws, line)])
    ws.append([])
    headers = ("Feuille", "Colonne", "Obligatoire", "Format", "Exemple", "Remarques")
    ws.append([_cell(ws, h, bold=True) for h in headers])
    examples = {
        "text": "",
        "money": "12 500,00 €",
        "date": "15/01/2026",
        "year": "2026",
    }
    for sheet in DATA_SHEETS:
        for column in COLUMNS[sheet]:
            fmt = column.fmt or {
                "objective": "Texte",
                "organisation": "Nom d'organisation",
                "group": "Nom de groupe",
                "level": "Valeur de la liste",
                "category": "Valeur de la liste",
            }.get(column.kind, "Texte")
            example = examples.get(column.kind, "")
            if column.key == "reference":
                example = "A1"
            elif column.kind == "level":
                example = str(ParticipationLevel.CO_CONSTRUCTION.label)
            elif column.kind == "category":
                example = str(BudgetLine.Category.STAFF.label)
            ws.append(
                [
                    _cell(ws, sheet),
                    _cell(ws, column.header),
                    _cell(ws, "Oui" if column.required else "Non"),
                    _cell(ws, fmt),
                    _cell(ws, example),
                    _cell(ws, column.notes),
                ]
            )


def _cell(ws, value: str, *, bold: bool = False) -> WriteOnlyCell:
    cell = WriteOnlyCell(ws, value=value)
    if bold:
        cell.font = BOLD
    if isinstance(value, str) and value.startswith(FORMULA_START):
        cell.data_type = "s"
    return cell


def template_filename(programme_name: str) -> str:
    return f"modele-import-{for_file_name(programme_name)}.xlsx"
