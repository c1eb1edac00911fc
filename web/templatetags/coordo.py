from django import template

from projects import financing

register = template.Library()


@register.filter
def lookup(mapping, key):
    """``{{ labels|lookup:code }}``: the label of a code, or the code itself."""
    return mapping.get(key, key) if mapping else key


@register.filter
def euros(value):
    """``3 210,00 €`` in French (grouped thousands, two decimals, localised): the same
    writing as the messages of the rules (``projects.financing.euros``)."""
    if value is None or value == "":
        return "—"
    return financing.euros(value)
