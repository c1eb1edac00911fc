from django import template

from projects import financing

register = template.Library()


@register.filter
def lookup(mapping, key):
    """``{{ labels|lookup:code }}``: the label of a code, or the code itself."""
    return mapping.get(key, key) if mapping else key


@register.filter
def euros(value):
    """``3 210,00 €`` in French (grouped thousands, two decimals, localised): the figures of
    the rules' messages (``projects.financing.euros``), with a no-break space before the sign
    so that a table cell never wraps it away from its number on a phone."""
    if value is None or value == "":
        return "—"
    return financing.euros(value).replace(" €", "\u00a0€")
