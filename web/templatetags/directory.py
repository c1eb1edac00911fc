"""The fiche page's partners form, without the fiche's view knowing about the directory:

    {% load directory %}{% partners_form action as form %}

The choices are the organisations of the programme's directory (``reporting.directory``)."""

from django import template

from ..views.directory import PartnersForm

register = template.Library()


@register.simple_tag
def partners_form(action) -> PartnersForm:
    return PartnersForm(action=action)
