from django import template
from django.template.defaultfilters import floatformat

register = template.Library()


@register.filter
def lookup(mapping, key):
    """``{{ labels|lookup:code }}``: the label of a code, or the code itself."""
    return mapping.get(key, key) if mapping else key


@register.filter
def euros(value):
    """``3 210,00 €`` in French (grouped thousands, two decimals, localised)."""
    if value is None or value == "":
        return "—"
    return f"{floatformat(value, '2g')} €"
