"""Reading one cell: amounts, dates and years as French users type them, and the programme's
names (objectives, organisations, groups, choices) as they spell them. A cell that cannot be
read raises ``BadCell`` with a message for the person who typed it."""

from __future__ import annotations

import datetime
import re
import unicodedata
from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import ValidationError
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from funding.models import BudgetLine
from projects.calendar import check_year
from projects.models import Action, Objective, Organisation, ParticipationLevel, WorkingGroup

from .columns import Column

MAX_MONEY = Decimal("9999999999.99")  # the amount columns: 12 digits, 2 decimals


class BadCell(Exception):
    """A cell that cannot be read; the message is for the person who typed it."""


def key(text: str) -> str:
    """How names are compared: case, surrounding and repeated spaces, typographic apostrophes
    (Excel's autocorrect) do not matter."""
    text = unicodedata.normalize("NFC", text).replace("\u2019", "'").replace("\u02bc", "'")
    return " ".join(text.split()).casefold()


def header_key(text: str) -> str:
    """Headers also forgive accents and the ``*`` marking required columns."""
    text = unicodedata.normalize("NFKD", key(text).rstrip("* ").strip())
    return "".join(c for c in text if not unicodedata.combining(c))


def text_of(value) -> str:
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


def is_empty(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


_NUMBER_FR = re.compile(r"^\d+(,\d+)?$")  # 12500 or 12500,5
_NUMBER_DOTTED = re.compile(r"^\d{1,3}(\.\d{3})+(,\d+)?$")  # 12.500,00
_NUMBER_POINT = re.compile(r"^\d+\.\d{1,2}$")  # 12500.5 (decimal point)
_SPACES = re.compile(r"\s+")  # includes non-breaking and narrow non-breaking spaces
_EURO = re.compile(r"^€|(€|eur(os?)?)$", re.IGNORECASE)


def _money(value) -> Decimal:
    if isinstance(value, bool):
        raise BadCell(_("Montant attendu, par exemple 12 500,00 €."))
    if isinstance(value, int | float | Decimal):
        amount = Decimal(str(value))
        if not amount.is_finite():
            raise BadCell(_("Montant attendu, par exemple 12 500,00 €."))
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
            raise BadCell(
                _("« {value} » n'est pas un montant lisible (par exemple 12 500,00 €).").format(
                    value=value.strip()
                )
            )
        amount = Decimal(number)
        if negative and amount:
            amount = -amount
        if amount.as_tuple().exponent < -2:
            raise BadCell(_("Deux décimales au plus (les centimes)."))
    else:
        raise BadCell(_("Montant attendu, par exemple 12 500,00 €."))
    if amount < 0:
        raise BadCell(_("Un montant ne peut pas être négatif."))
    if amount > MAX_MONEY:
        raise BadCell(
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
        raise BadCell(expected)
    text = value.strip()
    if match := _DATE_FR.match(text):
        day, month, year = (int(g) for g in match.groups())
    elif match := _DATE_ISO.match(text):
        year, month, day = (int(g) for g in match.groups())
    else:
        raise BadCell(
            _("« {value} » n'est pas une date lisible. {expected}").format(
                value=text, expected=expected
            )
        )
    try:
        return datetime.date(year, month, day)
    except ValueError as exc:
        raise BadCell(_("Le {value} n'existe pas.").format(value=text)) from exc


def _year(value) -> int:
    expected = _("Année attendue sur quatre chiffres, par exemple 2026.")
    if isinstance(value, bool):
        raise BadCell(expected)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if not isinstance(value, int):
        raise BadCell(expected)
    try:
        check_year(value)
    except ValidationError as exc:
        raise BadCell(exc.messages[0]) from exc
    return value


class Lookups:
    """The programme's names, read once: objectives, organisations, groups, choices."""

    def __init__(self, programme):
        self.objectives: dict[str, list[Objective]] = {}
        for objective in Objective.objects.filter(axis__programme=programme).select_related("axis"):
            n, title = objective.axis.number, objective.title
            for label in (title, f"{n} · {title}", f"{n}. {title}", f"{n} - {title}"):
                found = self.objectives.setdefault(key(label), [])
                if objective not in found:
                    found.append(objective)
        self.organisations: dict[str, list[Organisation]] = {}
        for organisation in Organisation.objects.all():
            self.organisations.setdefault(key(organisation.name), []).append(organisation)
        self.groups = {key(g.name): g for g in WorkingGroup.objects.filter(programme=programme)}
        self.levels = _choices(ParticipationLevel.choices)
        self.categories = _choices(BudgetLine.Category.choices)
        self.existing_titles = {
            key(t)
            for t in Action.objects.filter(programme=programme).values_list("title", flat=True)
        }

    def objective(self, text: str) -> Objective:
        found = self.objectives.get(key(text), [])
        if not found:
            raise BadCell(
                _(
                    "Objectif « {value} » inconnu dans ce dispositif : recopiez-le depuis la "
                    "feuille Listes (colonne A)."
                ).format(value=text)
            )
        if len(found) > 1:
            raise BadCell(
                _(
                    "Plusieurs objectifs s'intitulent « {value} » : précisez le numéro d'axe, "
                    "comme dans la feuille Listes (« 1 · {value} »)."
                ).format(value=text)
            )
        return found[0]

    def organisation(self, text: str) -> Organisation:
        found = self.organisations.get(key(text), [])
        if len(found) != 1:
            raise BadCell(
                _(
                    "Organisation « {value} » inconnue : utilisez le nom exact d'une organisation "
                    "de la feuille Listes (colonne B) ; l'administrateur ajoute les nouvelles."
                ).format(value=text)
            )
        return found[0]

    def group(self, text: str) -> WorkingGroup:
        try:
            return self.groups[key(text)]
        except KeyError:
            raise BadCell(
                _(
                    "Groupe de travail « {value} » inconnu dans ce dispositif (feuille Listes, "
                    "colonne C)."
                ).format(value=text)
            ) from None


def _choices(choices) -> dict[str, str]:
    keys = {}
    for value, label in choices:
        keys[key(value)] = value
        keys[key(str(label))] = value
    return keys


def _choice(mapping: dict[str, str], text: str, choices) -> str:
    try:
        return mapping[key(text)]
    except KeyError:
        allowed = ", ".join(str(label) for _, label in choices)
        raise BadCell(
            _("« {value} » n'est pas une valeur possible ({allowed}).").format(
                value=text, allowed=allowed
            )
        ) from None


def convert(column: Column, raw, lookups: Lookups):
    """The value of a non-empty cell for ``column``, or ``BadCell``."""
    kind = column.kind
    if kind == "money":
        return _money(raw)
    if kind == "date":
        return _date(raw)
    if kind == "year":
        return _year(raw)
    text = text_of(raw)
    if kind == "text":
        if column.max_length and len(text) > column.max_length:
            raise BadCell(
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
