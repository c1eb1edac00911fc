"""Funding of the fiches: a programme's follow-up (page and workbook), a request's page with
its decisions and payments, and the forms that add requests and payments."""

from __future__ import annotations

import datetime

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Sum
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_POST

import uploads
from audit import chain
from funding.models import BudgetLine, FundingRequest, Tranche
from projects import lifecycle
from projects.models import Organisation, Programme
from projects.permissions import get_visible_action, get_visible_programme
from reporting import replica
from reporting.funding_export import export_filename, write_funding_workbook
from spreadsheet import xlsx_response
from workflows import flows, queues, services
from workflows.filters import FundingFilter

from ..forms import (
    AgreementForm,
    DecisionForm,
    FundingRequestForm,
    ReceiptForm,
    RefusalForm,
    TrancheForm,
)
from ..pages import (
    PAGE_SIZE,
    client_ip,
    filter_errors,
    form_messages,
    run_from_page,
    seen,
    without_page,
)
from .documents import documents_context


def _filtered(request: HttpRequest, programme: Programme) -> FundingFilter:
    return FundingFilter(
        request.GET, queryset=FundingRequest.objects.filter(action__programme=programme)
    )


@login_required
def funding(request: HttpRequest, pk: int) -> HttpResponse:
    """Funding follow-up of a programme: requests with their amounts, and the workbook."""
    programme = get_visible_programme(request.user, pk)
    filters = _filtered(request, programme)
    requests = filters.qs
    page = Paginator(
        requests.select_related("action", "funder")
        .annotate(decision_due=queues.decision_due())
        .order_by("action__title", "year", "pk"),
        PAGE_SIZE,
    ).get_page(request.GET.get("page"))
    for r in page:
        r.decision_due = datetime.date.fromisoformat(r.decision_due) if r.decision_due else None
    totals = requests.aggregate(requested=Sum("requested_amount"), granted=Sum("granted_amount"))
    all_requests = FundingRequest.objects.filter(action__programme=programme)
    return render(
        request,
        "coordo/funding.html",
        {
            "programme": programme,
            "page": page,
            "totals": totals,
            "params": request.GET,
            "filter_errors": filter_errors(filters),
            "query": without_page(request.GET),
            "funders": Organisation.objects.filter(funding_requests__in=all_requests)
            .distinct()
            .order_by("name"),
            "years": all_requests.order_by("-year").values_list("year", flat=True).distinct(),
            "states": FundingRequest.State.choices,
            "can_import": services.IMPORT.allows(request.user, programme),
            "today": timezone.localdate(),
        },
        status=400 if filters.errors else 200,
    )


@login_required
@replica.on_replica
def funding_export(request: HttpRequest, pk: int) -> FileResponse | HttpResponse:
    """The funding follow-up workbook of the requests the page's filters select."""
    programme = get_visible_programme(request.user, pk)
    filters = _filtered(request, programme)
    if filters.errors:
        return funding(request, pk)
    budget_lines = BudgetLine.objects.filter(action__programme=programme)
    if filters.form.cleaned_data.get("annee"):
        budget_lines = budget_lines.filter(year=filters.form.cleaned_data["annee"])
    return xlsx_response(
        lambda out: write_funding_workbook(requests=filters.qs, budget_lines=budget_lines, out=out),
        export_filename(programme.name, timezone.localdate()),
    )


class _CommentForm(forms.Form):
    comment = forms.CharField(label=gettext_lazy("Motif / commentaire"), required=False)


FUNDING_FORMS = {"grant": DecisionForm, "refuse": RefusalForm, "sign_agreement": AgreementForm}


def _visible_request(user, pk: int) -> FundingRequest:
    funding_request = (
        FundingRequest.objects.select_related("action__programme", "funder").filter(pk=pk).first()
    )
    if funding_request is None:
        raise Http404(_("Demande de financement introuvable."))
    get_visible_action(user, funding_request.action_id)  # 404 outside the programme
    return funding_request


@login_required
def funding_request_detail(request: HttpRequest, pk: int) -> HttpResponse:
    funding_request = _visible_request(request.user, pk)
    user = request.user
    roles = services.roles_on(user, funding_request)
    transitions = []
    for step in lifecycle.available(funding_request):
        on_behalf = services.on_behalf(user, funding_request, step.name, roles=roles)
        refusal = services.step_refusal(
            user,
            funding_request,
            step.name,
            roles=roles,
            extra_roles=step.on_behalf if on_behalf else frozenset(),
        )
        if refusal is None:
            form_class = FUNDING_FORMS.get(step.name, _CommentForm)
            transitions.append(
                {
                    "name": step.name,
                    "label": step.label,
                    "form": form_class(prefix=step.name),
                    "on_behalf": on_behalf,
                }
            )
    task = queues.funder_task(funding_request)
    return render(
        request,
        "coordo/funding_request.html",
        {
            "funding_request": funding_request,
            "version": chain.version(funding_request),
            "task": task,
            "task_due": flows.due_date(task) if task else None,
            "can_take": bool(task)
            and bool(roles & flows.FUNDER_STAGE.roles)
            and task.owner_id != user.pk,
            "tranches": funding_request.tranches.all(),
            "documents": documents_context(
                user,
                funding_request,
                funding_request.documents.all(),
                roles=roles,
                tranches=funding_request.tranches.all(),
            ),
            "transitions": transitions,
            "can_plan": services.PLAN_PAYMENT.allows(user, funding_request, roles=roles),
            "can_receive": services.RECEIVE_PAYMENT.allows(user, funding_request, roles=roles),
            "tranche_form": TrancheForm(prefix="tranche"),
            "receipt_form": ReceiptForm(prefix="receipt"),
            "today": timezone.localdate(),
        },
    )


@csrf_exempt  # checked by ``_transition`` once the upload's size limit is in place
@require_POST
@login_required
def funding_request_transition(request: HttpRequest, pk: int, name: str) -> HttpResponse:
    limit = uploads.SizeLimit(request)
    request.upload_handlers.insert(0, limit)
    return _transition(request, pk, name, limit)


@csrf_protect
def _transition(request: HttpRequest, pk: int, name: str, limit) -> HttpResponse:
    funding_request = _visible_request(request.user, pk)
    if name not in lifecycle.names(FundingRequest):
        raise Http404(_("Transition inconnue."))
    form = FUNDING_FORMS.get(name, _CommentForm)(request.POST, request.FILES, prefix=name)
    back = redirect("coordo:funding-request", pk=funding_request.pk)
    if limit.too_large:
        messages.error(request, uploads.too_large().message)
        return back
    if not form.is_valid():
        form_messages(request, form)
        return back
    data = dict(form.cleaned_data)
    comment = data.pop("comment", "")
    decision_letter = data.pop("decision_letter", None)
    run_from_page(
        request,
        lambda: services.transition(
            funding_request,
            name,
            actor=request.user,
            seen=seen(request),
            comment=comment,
            decision_letter=decision_letter,
            ip=client_ip(request),
            **data,
        ),
        _("« {what} » : fait.").format(what=lifecycle.label(FundingRequest, name)),
    )
    return back


@login_required
def decision_letter(request: HttpRequest, pk: int) -> HttpResponse:
    """The funder's decision letter, for whoever may see the request (others: 404), always as
    a download."""
    funding_request = _visible_request(request.user, pk)
    if not funding_request.decision_letter:
        raise Http404(_("Aucun courrier de décision pour cette demande."))
    letter = funding_request.decision_letter.open("rb")
    kind = uploads.check(letter, 0)
    return uploads.download(letter, f"courrier-decision-{funding_request.pk}.{kind.extension}")


@require_POST
@login_required
def tranche_add(request: HttpRequest, pk: int) -> HttpResponse:
    funding_request = _visible_request(request.user, pk)
    form = TrancheForm(request.POST, prefix="tranche")
    if form.is_valid():
        run_from_page(
            request,
            lambda: services.add_tranche(
                request=funding_request,
                actor=request.user,
                seen=seen(request),
                ip=client_ip(request),
                **form.cleaned_data,
            ),
            _("Versement prévu."),
        )
    else:
        form_messages(request, form)
    return redirect("coordo:funding-request", pk=funding_request.pk)


@require_POST
@login_required
def tranche_receive(request: HttpRequest, pk: int) -> HttpResponse:
    tranche = Tranche.objects.filter(pk=pk).first()
    if tranche is None:
        raise Http404(_("Versement introuvable."))
    funding_request = _visible_request(request.user, tranche.request_id)
    form = ReceiptForm(request.POST, prefix="receipt")
    if form.is_valid():
        run_from_page(
            request,
            lambda: services.record_tranche_receipt(
                tranche=tranche,
                actor=request.user,
                seen=seen(request),
                ip=client_ip(request),
                **form.cleaned_data,
            ),
            _("Versement reçu enregistré."),
        )
    else:
        form_messages(request, form)
    return redirect("coordo:funding-request", pk=funding_request.pk)


@require_POST
@login_required
def funding_request_create(request: HttpRequest, pk: int) -> HttpResponse:
    action = get_visible_action(request.user, pk)
    form = FundingRequestForm(request.POST, prefix="funding")
    if form.is_valid():
        data = form.cleaned_data
        run_from_page(
            request,
            lambda: services.create_funding_request(
                action=action,
                actor=request.user,
                funder_id=data["funder"].pk,
                scheme=data["scheme"],
                year=data["year"],
                requested_amount=data["requested_amount"],
                seen=seen(request),
                ip=client_ip(request),
            ),
            _("Demande de financement ajoutée."),
        )
    else:
        form_messages(request, form)
    return redirect("coordo:action", pk=action.pk)


@require_POST
@login_required
def action_waiver(request: HttpRequest, pk: int) -> HttpResponse:
    """The COPIL allows implementation without complete funding, with its reason."""
    action = get_visible_action(request.user, pk)
    run_from_page(
        request,
        lambda: services.record_funding_waiver(
            action=action,
            actor=request.user,
            comment=request.POST.get("comment", ""),
            seen=seen(request),
            ip=client_ip(request),
        ),
        _("Dérogation du COPIL enregistrée."),
    )
    return redirect("coordo:action", pk=action.pk)
