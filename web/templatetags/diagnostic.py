"""The diagnostic's parts on pages that do not know about it (the fiche, the programme, the
fiche list's filters, the dashboard, the annual report), each one line of their template:

    {% load diagnostic %}{% fiche_diagnostic action %}
    {% programme_diagnostic programme %}
    {% scheme_choices programme as schemes %}
    {% diagnostic_coverage programme as coverage %}  {% scheme_contribution programme as schemes %}
"""

from django import template

from diagnostic.models import Scheme
from reporting import diagnostic as figures
from workflows.services import may_set_up

from ..views.diagnostic import FicheLinksForm, visible_ids

register = template.Library()


@register.inclusion_tag("coordo/diagnostic/fiche.html", takes_context=True)
def fiche_diagnostic(context, action) -> dict:
    """« Répond aux besoins… » and « Contribue à… » on the fiche, with the coordination's form."""
    user = context["request"].user
    can_keep = may_set_up(user, [action.programme_id])
    findings = list(action.findings.order_by("theme", "pk"))
    contributions = list(
        action.scheme_objectives.select_related("scheme").order_by("scheme__name", "pk")
    )
    chosen = {
        "findings": [f.pk for f in findings],
        "scheme_objectives": [o.pk for o in contributions],
    }
    return {
        "action": action,
        "findings": findings,
        "contributions": contributions,
        "form": FicheLinksForm(action=action, initial=chosen) if can_keep else None,
        "version": context.get("version", 0),
        "csrf_token": context.get("csrf_token"),
    }


@register.inclusion_tag("coordo/diagnostic/programme.html", takes_context=True)
def programme_diagnostic(context, programme) -> dict:
    """The programme page's card: the diagnostic's page, and the linked CLS or CLSM's fiches
    sharing a theme with this one's."""
    return {
        "programme": programme,
        "linked": figures.linked_programmes(
            programme, visible_ids(context["request"].user), shown=5
        ),
    }


@register.simple_tag
def scheme_choices(programme):
    return Scheme.objects.filter(programme=programme).order_by("name")


@register.simple_tag
def diagnostic_coverage(programme, shown=None) -> figures.Coverage:
    return figures.coverage(programme, shown)


@register.simple_tag
def scheme_contribution(programme) -> list[figures.SchemeRow]:
    return figures.contribution(programme)
