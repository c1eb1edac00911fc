"""The home page and the task list: what waits for the user, in their programmes only."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from viewflow.workflow.models import Task

from projects.models import Action, ActionState
from projects.permissions import get_visible_action, visible_programmes
from workflows import flows, queues, services, task_lists

from ..pages import PAGE_SIZE, client_ip, run_from_page

TASK_LIST_SIZE = 10


@login_required
def home(request: HttpRequest) -> HttpResponse:
    programmes = list(visible_programmes(request.user).order_by("name"))
    counts = {
        (row["programme_id"], row["state"]): row["n"]
        for row in Action.objects.filter(programme__in=programmes)
        .values("programme_id", "state")
        .annotate(n=Count("id"))
    }
    programme_rows = [
        {
            "programme": p,
            "states": [
                (value, label, counts.get((p.pk, value), 0)) for value, label in ActionState.choices
            ],
            "total": sum(counts.get((p.pk, value), 0) for value in ActionState.values),
        }
        for p in programmes
    ]
    user = request.user
    queue = task_lists.ordered_ids(queues.task_queue(user))
    # Held by nobody or by a colleague: the user's roles can take them (over).
    others = [pk for pk, owner in queue if owner != user.pk]
    mine = [pk for pk, owner in queue if owner == user.pk][:TASK_LIST_SIZE]
    escalated = [pk for pk, _owner in task_lists.ordered_ids(queues.escalated_tasks(user))]
    shown = mine + others[:TASK_LIST_SIZE] + escalated[:TASK_LIST_SIZE]
    rows = {row.task.pk: row for row in task_lists.rows_for(shown)}
    listed = {
        name: [rows[pk] for pk in ids[:TASK_LIST_SIZE] if pk in rows]
        for name, ids in (("my_tasks", mine), ("open_tasks", others), ("escalated", escalated))
    }
    return render(
        request,
        "coordo/home.html",
        {
            "rows": programme_rows,
            **listed,
            "open_count": len(others),
            "can_create_programme": services.may_create_programme(user),
        },
    )


@login_required
def inbox(request: HttpRequest) -> HttpResponse:
    """Every task the user's roles can take, soonest due first, paginated."""
    queue = queues.task_queue(request.user)
    if request.GET.get("retard"):
        queue = queue.filter(data__due__lt=timezone.localdate().isoformat())
    page = Paginator(task_lists.ordered_ids(queue), PAGE_SIZE).get_page(request.GET.get("page"))
    rows = task_lists.rows_for([pk for pk, _owner in page.object_list])
    return render(request, "coordo/inbox.html", {"page": page, "rows": rows, "params": request.GET})


@require_POST
@login_required
def task_take(request: HttpRequest, pk: int) -> HttpResponse:
    return _task_action(request, pk, services.take_task, _("La tâche est à vous."))


@require_POST
@login_required
def task_release(request: HttpRequest, pk: int) -> HttpResponse:
    return _task_action(request, pk, services.release_task, _("Tâche libérée pour les autres."))


def _task_action(request: HttpRequest, pk: int, service, success: str) -> HttpResponse:
    task = Task.objects.filter(
        pk=pk, process__flow_class__in=(flows.ActionFlow, flows.FunderDecisionFlow)
    ).first()
    if task is None:
        raise Http404(_("Tâche introuvable."))
    action = get_visible_action(request.user, flows.action_id_of(task))
    run_from_page(
        request,
        lambda: service(task_id=task.pk, actor=request.user, ip=client_ip(request)),
        success,
    )
    if flows.is_funder_task(task):
        return redirect("coordo:funding-request", pk=task.process.artifact_object_id)
    return redirect("coordo:action", pk=action.pk)
