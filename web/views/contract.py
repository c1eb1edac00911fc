"""The contract's pages: a round of signatures (each organisation's signature, and the forms
of the person who signs for one), the amendments (list, draft, COPIL decision, signatures) and
the contract's evaluations (mid-term, final)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.files.storage import default_storage
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

import uploads
from audit import chain
from contracts.models import Amendment, Evaluation, Signature, Signing
from documents.models import Document
from projects import lifecycle
from projects.models import Organisation, Programme
from projects.permissions import get_visible_programme, holds_role, roles_in
from workflows import services

from ..forms import Form, ModelForm
from ..pages import (
    client_ip,
    fiche_picker,
    form_errors,
    form_messages,
    run_from_page,
    seen,
    status,
)


class SignForm(Form):
    signed_copy = forms.FileField(
        label=gettext_lazy("Copie signée (facultatif : PDF, document ou image)"), required=False
    )


class RefuseForm(Form):
    reason = forms.CharField(
        label=gettext_lazy("Pourquoi ne signez-vous pas ?"),
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=5000,
    )


class AmendmentForm(ModelForm):
    class Meta:
        model = Amendment
        fields = ["title", "summary", "new_end_date", "new_signatories", "annexed_actions"]
        widgets = {
            "new_end_date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "summary": forms.Textarea(attrs={"rows": 5}),
            "new_signatories": forms.CheckboxSelectMultiple,
            "annexed_actions": forms.CheckboxSelectMultiple,
        }

    def __init__(self, *args, programme: Programme, request: HttpRequest, **kwargs):
        super().__init__(*args, **kwargs)
        self.instance.programme = programme
        self.fields["new_signatories"].queryset = Organisation.objects.exclude(
            pk__in=programme.signatories.values("pk")
        )
        field = self.fields["annexed_actions"]
        field.queryset = programme.actions.order_by("title")
        if self.is_bound:
            posted = self.data.getlist(self.add_prefix("annexed_actions"))
            chosen = [v for v in posted if v.isdigit() and len(v) < 19]
        else:
            chosen = [a.pk for a in self.instance.annexed_actions.all()] if self.instance.pk else []
        # Any fiche of the programme may be annexed; the page offers the first ones, those
        # searched, and those chosen.
        self.picker = fiche_picker(request, field.queryset, "fiches", chosen)
        field.widget.choices = self.picker["choices"]


class EvaluationForm(ModelForm):
    class Meta:
        model = Evaluation
        fields = ["findings", "recommendations"]
        widgets = {
            "findings": forms.Textarea(attrs={"rows": 8}),
            "recommendations": forms.Textarea(attrs={"rows": 8}),
        }


def contract_card(programme: Programme) -> dict:
    """What the programme page says of the contract: its signatories and period, its latest
    round of signatures, its amendments (those in force named) and evaluations (a few queries,
    whatever their number)."""
    return {
        "signatories": list(programme.signatories.order_by("name")),
        "signing": programme.signings.filter(subject=Signing.Subject.CONTRACT)
        .order_by("-pk")
        .first(),
        "amendments": programme.amendments.count(),
        "in_force": list(
            programme.amendments.filter(status=Amendment.Status.IN_FORCE).order_by("number")
        ),
        "evaluations": {e.kind: e for e in programme.evaluations.all()},
        "kinds": Evaluation.Kind.choices,
    }


# --- signatures ------------------------------------------------------------------------------


def _visible_signing(user, pk: int) -> Signing:
    signing = (
        Signing.objects.select_related("programme", "amendment", "funding_request__action")
        .filter(pk=pk)
        .first()
    )
    if signing is None:
        raise Http404(_("Tour de signatures introuvable."))
    get_visible_programme(user, signing.programme_id)  # 404 outside the programme
    return signing


def _mine(user, signing: Signing) -> list[Signature]:
    """The pending signatures of the round the person may give."""
    return [
        s
        for s in signing.signatures.select_related("organisation")
        if s.state == Signature.State.PENDING
        and holds_role(
            user,
            programme_id=signing.programme_id,
            roles={s.role},
            scopes={s.role: s.organisation_id},
        )
    ]


def _documents_signed(signing: Signing):
    """The documents the round is about, to read before signing: the programme's contract or
    amendments, or the request's agreement."""
    if signing.funding_request_id:
        return signing.funding_request.documents.filter(kind=Document.Kind.AGREEMENT)
    kind = Document.Kind.AMENDMENT if signing.amendment_id else Document.Kind.CONTRACT
    return signing.programme.documents.filter(kind=kind, action=None, meeting=None)


@login_required
def signing_detail(request: HttpRequest, pk: int) -> HttpResponse:
    signing = _visible_signing(request.user, pk)
    return render(
        request,
        "coordo/signing.html",
        {
            "signing": signing,
            "documents": _documents_signed(signing),
            "signatures": signing.signatures.select_related("organisation", "signed_by"),
            "mine": _mine(request.user, signing) if not signing.outcome else [],
            "sign_form": SignForm(),
            "refuse_form": RefuseForm(),
            "version": chain.version(signing),
        },
    )


def _signature(request: HttpRequest, pk: int) -> Signature:
    signature = Signature.objects.select_related("signing").filter(pk=pk).first()
    if signature is None:
        raise Http404(_("Signature introuvable."))
    _visible_signing(request.user, signature.signing_id)
    return signature


@login_required
@require_POST
def signature_sign(request: HttpRequest, pk: int) -> HttpResponse:
    signature = _signature(request, pk)
    form = SignForm(request.POST, request.FILES)
    if not form.is_valid():
        form_messages(request, form)
    else:
        run_from_page(
            request,
            lambda: services.sign(
                signature=signature,
                actor=request.user,
                document=form.cleaned_data["signed_copy"],
                seen=seen(request),
                ip=client_ip(request),
            ),
            _("Signé pour {organisation}.").format(organisation=signature.organisation),
        )
    return redirect("coordo:signing", pk=signature.signing_id)


@login_required
@require_POST
def signature_refuse(request: HttpRequest, pk: int) -> HttpResponse:
    signature = _signature(request, pk)
    form = RefuseForm(request.POST)
    if not form.is_valid():
        form_messages(request, form)
    else:
        run_from_page(
            request,
            lambda: services.refuse(
                signature=signature,
                actor=request.user,
                reason=form.cleaned_data["reason"],
                seen=seen(request),
                ip=client_ip(request),
            ),
            _("Refus enregistré : la coordination en est informée."),
        )
    return redirect("coordo:signing", pk=signature.signing_id)


@login_required
def signed_copy(request: HttpRequest, pk: int) -> HttpResponse:
    """The signed copy, to whoever sees the programme, as an attachment."""
    signature = _signature(request, pk)
    if not signature.signed_copy:
        raise Http404(_("Pas de copie signée."))
    copy = default_storage.open(signature.signed_copy, "rb")
    kind = uploads.check(copy, 0)
    return uploads.download(copy, f"signature-{signature.pk}.{kind.extension}")


# --- amendments ------------------------------------------------------------------------------


@login_required
def amendment_list(request: HttpRequest, pk: int) -> HttpResponse:
    programme = get_visible_programme(request.user, pk)
    may_prepare = services.PREPARE.allows(request.user, programme, roles=roles_in(request.user, pk))
    form = AmendmentForm(request.POST or None, programme=programme, request=request)
    if request.method == "POST":
        if not may_prepare:
            raise PermissionDenied(_("Les avenants sont préparés par la coordination."))
        if form.is_valid():
            try:
                amendment = services.create_amendment(
                    programme=programme,
                    actor=request.user,
                    data={k: form.cleaned_data[k] for k in services.AMENDMENT_FIELDS},
                    ip=client_ip(request),
                )
                services.update_amendment(
                    amendment=amendment,
                    actor=request.user,
                    data={},
                    new_signatories=form.cleaned_data["new_signatories"],
                    annexed_actions=form.cleaned_data["annexed_actions"],
                    ip=client_ip(request),
                )
            except services.Refused as exc:
                form_errors(form, exc)
            else:
                messages.success(request, _("Avenant créé : complétez-le puis soumettez-le."))
                return redirect("coordo:amendment", pk=amendment.pk)
    return render(
        request,
        "coordo/amendments.html",
        {
            "programme": programme,
            "amendments": programme.amendments.all(),
            "form": form if may_prepare else None,
        },
        status=status(form),
    )


def _visible_amendment(user, pk: int) -> Amendment:
    amendment = Amendment.objects.select_related("programme").filter(pk=pk).first()
    if amendment is None:
        raise Http404(_("Avenant introuvable."))
    get_visible_programme(user, amendment.programme_id)
    return amendment


@login_required
def amendment_detail(request: HttpRequest, pk: int) -> HttpResponse:
    amendment = _visible_amendment(request.user, pk)
    roles = roles_in(request.user, amendment.programme_id)
    editable = amendment.status == Amendment.Status.DRAFTING and services.PREPARE.allows(
        request.user, amendment.programme, roles=roles
    )
    form = AmendmentForm(
        request.POST or None,
        instance=amendment,
        programme=amendment.programme,
        request=request,
    )
    version = seen(request) if request.method == "POST" else chain.version(amendment)
    if request.method == "POST":
        if not editable:
            raise PermissionDenied(_("L'avenant ne se modifie plus, ou pas par vous."))
        if form.is_valid():
            try:
                services.update_amendment(
                    amendment=amendment,
                    actor=request.user,
                    data={k: form.cleaned_data[k] for k in services.AMENDMENT_FIELDS},
                    new_signatories=form.cleaned_data["new_signatories"],
                    annexed_actions=form.cleaned_data["annexed_actions"],
                    seen=version,
                    ip=client_ip(request),
                )
            except services.Refused as exc:
                form_errors(form, exc)
                version = chain.version(amendment)
            else:
                messages.success(request, _("Avenant enregistré."))
                return redirect("coordo:amendment", pk=amendment.pk)
    return render(
        request,
        "coordo/amendment.html",
        {
            "amendment": amendment,
            "form": form if editable else None,
            "offers": services.offered(request.user, amendment, roles=roles),
            "signing": amendment.signings.order_by("-pk").first(),
            "version": version,
        },
        status=status(form),
    )


@login_required
@require_POST
def amendment_transition(request: HttpRequest, pk: int, name: str) -> HttpResponse:
    amendment = _visible_amendment(request.user, pk)
    if name not in lifecycle.names(Amendment):
        raise Http404(_("Transition inconnue."))
    run_from_page(
        request,
        lambda: services.transition(
            amendment,
            name,
            actor=request.user,
            seen=seen(request),
            comment=request.POST.get("comment", ""),
            ip=client_ip(request),
        ),
        _("« {what} » : fait.").format(what=lifecycle.label(Amendment, name)),
    )
    return redirect("coordo:amendment", pk=amendment.pk)


# --- the contract's evaluations --------------------------------------------------------------


@login_required
def evaluation_page(request: HttpRequest, pk: int, kind: str) -> HttpResponse:
    programme = get_visible_programme(request.user, pk)
    if kind not in Evaluation.Kind.values:
        raise Http404(_("Évaluation inconnue."))
    roles = roles_in(request.user, pk)
    may_prepare = services.PREPARE.allows(request.user, programme, roles=roles)
    evaluation = programme.evaluations.filter(kind=kind).first()
    editable = bool(evaluation) and evaluation.status == Evaluation.Status.DRAFTING and may_prepare
    form = EvaluationForm(request.POST or None, instance=evaluation)
    version = seen(request) if request.method == "POST" else chain.version(evaluation or programme)
    if request.method == "POST":
        if "prepare" in request.POST:
            if not may_prepare:
                raise PermissionDenied(
                    _("L'évaluation du contrat est rédigée par la coordination.")
                )
            run_from_page(
                request,
                lambda: services.prepare_evaluation(
                    programme=programme, actor=request.user, kind=kind, ip=client_ip(request)
                ),
                _("Chiffres du contrat repris dans l'évaluation."),
            )
            return redirect("coordo:contract-evaluation", pk=pk, kind=kind)
        if not editable:
            raise PermissionDenied(_("Cette évaluation ne se modifie plus, ou pas par vous."))
        if form.is_valid():
            try:
                services.write_evaluation(
                    evaluation=evaluation,
                    actor=request.user,
                    data=form.cleaned_data,
                    seen=version,
                    ip=client_ip(request),
                )
            except services.Refused as exc:
                form_errors(form, exc)
                version = chain.version(evaluation)
            else:
                messages.success(request, _("Évaluation enregistrée."))
                return redirect("coordo:contract-evaluation", pk=pk, kind=kind)
    return render(
        request,
        "coordo/contract_evaluation.html",
        {
            "programme": programme,
            "kind": kind,
            "kind_label": Evaluation.Kind(kind).label,
            "evaluation": evaluation,
            "form": form if editable else None,
            "may_prepare": may_prepare
            and (evaluation is None or evaluation.status == Evaluation.Status.DRAFTING),
            "offers": services.offered(request.user, evaluation, roles=roles) if evaluation else [],
            "version": version,
        },
        status=status(form),
    )


@login_required
@require_POST
def evaluation_transition(request: HttpRequest, pk: int, name: str) -> HttpResponse:
    evaluation = Evaluation.objects.select_related("programme").filter(pk=pk).first()
    if evaluation is None or name not in lifecycle.names(Evaluation):
        raise Http404(_("Évaluation introuvable."))
    get_visible_programme(request.user, evaluation.programme_id)
    run_from_page(
        request,
        lambda: services.transition(
            evaluation,
            name,
            actor=request.user,
            seen=seen(request),
            comment=request.POST.get("comment", ""),
            ip=client_ip(request),
        ),
        _("« {what} » : fait.").format(what=lifecycle.label(Evaluation, name)),
    )
    return redirect("coordo:contract-evaluation", pk=evaluation.programme_id, kind=evaluation.kind)
