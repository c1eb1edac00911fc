"""The coordination's moderation queue of residents' proposals: the list (pending first, then
what became of the others, each with the personal data it seems to contain) and the
moderation itself — publish as a proposed fiche, attach to an active fiche, or decline with a
public reason — through the services' transition.

Who moderates is the lifecycle's answer (the roles of the pending state's task): other members
of the programme get 403, people outside it 404. The resident's contact is personal data:
shown here only, never in the trail.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Case, IntegerField, Value, When
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from audit import chain
from projects import lifecycle, personal_data
from projects.models import ACTIVE_STATES, Action, Programme, ResidentProposal
from projects.permissions import get_visible_programme, roles_in
from workflows import services

from ..pages import PAGE_SIZE, client_ip, fiche_picker, run_from_page, seen

PENDING = ResidentProposal.State.PENDING


def may_moderate(roles: set[str]) -> bool:
    """Whether these roles take the pending proposals' task (the lifecycle says which)."""
    return bool(roles & lifecycle.task_roles(ResidentProposal, PENDING))


def _check_moderator(user, programme: Programme) -> None:
    if not may_moderate(roles_in(user, programme.pk)):
        raise PermissionDenied(
            _("La modération des propositions d'habitant·es revient à la coordination.")
        )


def _open_fiches(programme: Programme):
    """The fiches a proposal may join: the programme's active ones (``programme_id`` loaded
    for the one ``_into`` returns)."""
    return (
        programme.actions.filter(state__in=ACTIVE_STATES)
        .only("pk", "programme_id", "title")
        .order_by("title")
    )


@login_required
def resident_proposals(request: HttpRequest, pk: int) -> HttpResponse:
    programme = get_visible_programme(request.user, pk)  # 404 outside the programme
    _check_moderator(request.user, programme)
    queue = (
        programme.resident_proposals.select_related("action")
        .annotate(
            waiting=Case(
                When(state=PENDING, then=Value(0)), default=Value(1), output_field=IntegerField()
            )
        )
        .order_by("waiting", "-submitted_at", "-pk")
    )
    page = Paginator(queue, PAGE_SIZE).get_page(request.GET.get("page"))
    # The version each moderation form posts: a second click on a stale page is refused.
    versions = chain.versions(ResidentProposal, [p.pk for p in page if p.state == PENDING])
    for proposal in page:
        proposal.flag_labels = personal_data.describe(proposal.flags)
        proposal.version = versions.get(proposal.pk, 0)
    return render(
        request,
        "coordo/resident_proposals.html",
        {
            "programme": programme,
            "page": page,
            "pending": programme.resident_proposals.filter(state=PENDING).count(),
            "fiches": fiche_picker(request, _open_fiches(programme), "rattacher"),
            "steps": {
                name: lifecycle.label(ResidentProposal, name)
                for name in lifecycle.names(ResidentProposal)
            },
            "public_page": programme.public_page,
        },
    )


def _into(programme: Programme, value: str) -> Action | None:
    """The active fiche of the programme chosen in the list, or None (the service refuses)."""
    if not (value.isdigit() and len(value) < 19):
        return None
    return _open_fiches(programme).filter(pk=int(value)).first()


@require_POST
@login_required
def moderate(request: HttpRequest, pk: int, name: str) -> HttpResponse:
    proposal = ResidentProposal.objects.select_related("programme").filter(pk=pk).first()
    if proposal is None or name not in lifecycle.names(ResidentProposal):
        raise Http404(_("Proposition introuvable."))
    programme = get_visible_programme(request.user, proposal.programme_id)
    # The role first: a 403 whatever the page's age or the proposal's state.
    _check_moderator(request.user, programme)
    into = _into(programme, request.POST.get("into", "")) if name == "attach" else None
    run_from_page(
        request,
        lambda: services.transition(
            proposal,
            name,
            actor=request.user,
            seen=seen(request),
            comment=request.POST.get("comment", ""),
            ip=client_ip(request),
            into=into,
        ),
        _("« {what} » : fait.").format(what=lifecycle.label(ResidentProposal, name)),
    )
    return redirect("coordo:resident-proposals", pk=programme.pk)
