"""The import workbook's sheets and columns, and what reading it returns: the rows to create,
or every error found with its sheet, row (as the spreadsheet numbers it), column and message."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from projects.models import Organisation

EXAMPLE_REFERENCE = "EXEMPLE"
ACTIONS = "Actions"
BUDGET = "Budget"
FUNDING = "Financements"
EXPLANATIONS = "Explications"
LISTS = "Listes"
DATA_SHEETS = (ACTIONS, BUDGET, FUNDING)
SHEETS = (EXPLANATIONS, *DATA_SHEETS, LISTS)


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
            notes="Valeurs : feuille Listes, colonne D. Plusieurs lignes par fiche, année et "
            "catégorie sont possibles, avec des libellés différents.",
        ),
        Column("planned", "Prévisionnel", "money", True, 15, fmt=MONEY_FORMAT),
        Column("actual", "Réalisé", "money", width=15, fmt=MONEY_FORMAT, notes="Vide : 0."),
        Column(
            "label",
            "Libellé",
            "text",
            width=32,
            max_length=200,
            fmt="Texte (200 caractères au plus)",
            notes="Ce que la ligne finance. Vide : le nom de la catégorie.",
        ),
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
    label: str = ""  # empty: the category's name


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
