"""Horizontal bar charts drawn on the server as inline SVG (no JavaScript, no CDN).

    {% load coordo_charts %}
    {% translate "Fiches par état" as title %}
    {% bar_chart title rows %}                                   {# rows: (label, value) #}
    {% bar_chart title rows series="Demandé|Accordé" money=True %}  {# (label, v1, v2) #}

The SVG is an image with a title (``role="img"``, ``aria-label``, ``<title>``); the same figures
follow it in a table, so that they can be read, copied and printed as text.
"""

from __future__ import annotations

from dataclasses import dataclass

from django import template

from .coordo import euros

register = template.Library()

WIDTH = 640
LABEL_WIDTH = 210  # left column: the labels
VALUE_WIDTH = 120  # right margin: the value printed after each bar
BAR_HEIGHT = 16
ROW_GAP = 10
LEGEND_HEIGHT = 24
LABEL_CHARS = 30


@dataclass(frozen=True)
class _Bar:
    series: int
    x: int
    y: int
    width: int
    text: str
    text_x: int


@dataclass(frozen=True)
class _Row:
    label: str
    short_label: str
    label_y: int
    bars: list[_Bar]
    texts: list[str]


def _text(value, money: bool) -> str:
    if money:
        return euros(value)
    if isinstance(value, float):  # a measured value: French decimal comma
        return f"{value:g}".replace(".", ",")
    return f"{value:,}".replace(",", "\u202f") if isinstance(value, int) else str(value)


@register.inclusion_tag("coordo/includes/bar_chart.html")
def bar_chart(
    title,
    rows,
    series: str = "",
    money: bool = False,
    unit: str = "",
    label_header: str = "",
    table: bool = True,
):
    """``rows``: (label, value, ...) tuples, one value per series (``series``: names joined
    by ``|``; one unnamed series by default). ``table=False`` when the page already gives the
    same figures in a table of its own, next to the chart."""
    names = [name for name in series.split("|") if name] or [""]
    rows = [(str(row[0]), [v or 0 for v in row[1 : len(names) + 1]]) for row in rows]
    top = max((v for _, values in rows for v in values), default=0)
    scale = (WIDTH - LABEL_WIDTH - VALUE_WIDTH) / top if top else 0
    legend = LEGEND_HEIGHT if len(names) > 1 else 0
    row_height = BAR_HEIGHT * len(names) + ROW_GAP
    drawn = []
    for index, (label, values) in enumerate(rows):
        y = legend + index * row_height + ROW_GAP // 2
        texts = [_text(v, money) for v in values]
        bars = []
        for s, (value, text) in enumerate(zip(values, texts, strict=True)):
            width = round(value * scale)
            if value and width < 1:
                width = 1
            bars.append(
                _Bar(s, LABEL_WIDTH, y + s * BAR_HEIGHT, width, text, LABEL_WIDTH + width + 6)
            )
        short = label if len(label) <= LABEL_CHARS else label[: LABEL_CHARS - 1] + "…"
        drawn.append(_Row(label, short, y + BAR_HEIGHT * len(names) // 2 + 4, bars, texts))
    return {
        "title": title,
        "unit": unit,
        "label_header": label_header,
        "table": table,
        "names": names,
        "series_count": len(names),
        "legend": [(i, name, 10 + i * 160) for i, name in enumerate(names)] if legend else [],
        "rows": drawn,
        "width": WIDTH,
        "height": legend + len(rows) * row_height + ROW_GAP,
        "label_x": LABEL_WIDTH - 8,
        "bar_height": BAR_HEIGHT - 3,
        "axis_x": LABEL_WIDTH,
    }
