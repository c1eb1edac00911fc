from django import template

register = template.Library()


@register.filter
def lookup(mapping, key):
    """``{{ labels|lookup:code }}``: the label of a code, or the code itself."""
    return mapping.get(key, key) if mapping else key
