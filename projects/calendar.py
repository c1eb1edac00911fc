"""The dates Coordo accepts: a CLS or CLSM lasts a few years, so any date or year outside
1990–2100 is a typing error (or an attack on date arithmetic), refused with a clear message
wherever it comes from — a form, a query string, a workbook, a service call. Years of a
programme's budget and funding stay within its period, ten years either side."""

from __future__ import annotations

import datetime

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

FIRST_YEAR, LAST_YEAR = 1990, 2100
PERIOD_MARGIN = 10  # years before the programme's start and after its end


def check_year(year: int) -> None:
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise ValidationError(
            _("Année {year} hors de la période acceptée ({first}–{last}).").format(
                year=year, first=FIRST_YEAR, last=LAST_YEAR
            ),
            code="year_out_of_range",
        )


def check_date(value: datetime.date | None) -> None:
    """A date (or date and time) within the accepted years."""
    if value is not None:
        check_year(value.year)


def check_programme_year(year: int | None, programme) -> None:
    """A budget or funding year within the programme's period, ten years either side."""
    if year is None or programme is None:
        return
    first = programme.start_date.year - PERIOD_MARGIN
    last = programme.end_date.year + PERIOD_MARGIN
    if not first <= year <= last:
        raise ValidationError(
            _(
                "Année {year} hors de la période du dispositif, à dix ans près ({first}–{last})."
            ).format(year=year, first=first, last=last),
            code="year_out_of_period",
        )
