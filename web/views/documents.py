"""Documents on the pages of a programme, a fiche, a séance and a funding request (with its
payments): the list, the form to attach one, removal, and the download — as an attachment with
``nosniff``, for the programme's members only (404 for anyone else)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import models
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_POST

import uploads
from documents.models import Document
from funding.models import FundingRequest, Tranche
from projects.models import Action, Meeting, Programme
from projects.permissions import get_visible_action, get_visible_programme, visible_programme_ids
from workflows import services

from ..forms import Form
from ..pages import client_ip, form_messages, run_from_page

# The owners a document can be attached to, by the word of their URL.
OWNERS = {
    "dispositif": Programme,
    "fiche": Action,
    "seance": Meeting,
    "demande": FundingRequest,
    "versement": Tranche,
}
SLUGS = {model: slug for slug, model in OWNERS.items()}


class DocumentForm(Form):
    kind = forms.ChoiceField(label=gettext_lazy("Nature"))
    title = forms.CharField(
        label=gettext_lazy("Titre (facultatif : le nom du fichier sinon)"),
        max_length=200,
        required=False,
    )
    file = forms.FileField(
        label=gettext_lazy("Fichier (PDF, Word, Excel, OpenDocument, image, texte ; 20 Mo au plus)")
    )
    tranche = forms.TypedChoiceField(
        label=gettext_lazy("Versement concerné"), coerce=int, required=False, empty_value=None
    )

    def __init__(self, *args, owner: models.Model, tranches=(), **kwargs):
        super().__init__(*args, **kwargs)
        kinds = set(Document.KINDS[services.owner_kind(owner)])
        if tranches:
            kinds |= set(Document.KINDS["tranche"])
            self.fields["tranche"].choices = [("", _("— la demande elle-même —"))] + [
                (t.pk, str(t)) for t in tranches
            ]
        else:
            del self.fields["tranche"]
        self.fields["kind"].choices = [
            (k, label) for k, label in Document.Kind.choices if k in kinds
        ]


def _visible_owner(user, slug: str, pk: int) -> models.Model:
    """The object if its programme is the user's; otherwise 404."""
    model = OWNERS.get(slug)
    if model is None:
        raise Http404(_("Page introuvable."))
    if model is Programme:
        return get_visible_programme(user, pk)
    if model is Action:
        return get_visible_action(user, pk)
    related = {Meeting: "programme", FundingRequest: "action", Tranche: "request__action"}[model]
    owner = model.objects.select_related(related).filter(pk=pk).first()
    if owner is None:
        raise Http404(_("Page introuvable."))
    get_visible_programme(user, services.target(owner).programme_id)
    return owner


def _page_of(owner: models.Model) -> str:
    if isinstance(owner, Programme):
        return reverse("coordo:programme", args=[owner.pk])
    if isinstance(owner, Action):
        return reverse("coordo:action", args=[owner.pk])
    if isinstance(owner, Meeting):
        return reverse("coordo:meeting", args=[owner.pk])
    request = owner if isinstance(owner, FundingRequest) else owner.request
    return reverse("coordo:funding-request", args=[request.pk])


def documents_context(user, owner: models.Model, documents, *, roles=None, tranches=()) -> dict:
    """What the documents card of ``owner``'s page needs: its documents (tranches' included
    on a request's page), and the form when the user may attach one."""
    can_attach = services.may_attach(user, owner, roles=roles)
    return {
        "documents": documents.select_related("uploaded_by", "tranche", "funding_request__funder"),
        "form": DocumentForm(owner=owner, tranches=tranches) if can_attach else None,
        "attach_url": reverse("coordo:document-attach", args=[SLUGS[type(owner)], owner.pk]),
        "can_remove": can_attach,
        "on_request": isinstance(owner, FundingRequest),
    }


@csrf_exempt  # checked by ``_attach`` once the upload's size limit is in place
@require_POST
@login_required
def document_attach(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    limit = uploads.SizeLimit(request, limit=uploads.DOCUMENT_MAX_BYTES)
    request.upload_handlers.insert(0, limit)
    return _attach(request, slug, pk, limit)


@csrf_protect
def _attach(request: HttpRequest, slug: str, pk: int, limit) -> HttpResponse:
    owner = _visible_owner(request.user, slug, pk)
    tranches = owner.tranches.all() if isinstance(owner, FundingRequest) else ()
    back = redirect(_page_of(owner) + "#documents")
    form = DocumentForm(request.POST, request.FILES, owner=owner, tranches=tranches)
    if limit.too_large:  # known once the files are read (``request.FILES``)
        messages.error(request, uploads.too_large(uploads.DOCUMENT_MAX_BYTES).message)
        return back
    if not form.is_valid():
        form_messages(request, form)
        return back
    data = form.cleaned_data
    if data.get("tranche"):
        owner = next((t for t in tranches if t.pk == data["tranche"]), None)
        if owner is None:
            raise Http404(_("Versement introuvable."))
    run_from_page(
        request,
        lambda: services.attach_document(
            owner=owner,
            actor=request.user,
            file=data["file"],
            kind=data["kind"],
            title=data["title"],
            ip=client_ip(request),
        ),
        _("Document joint."),
    )
    return back


def _visible_document(user, pk: int) -> Document:
    document = (
        Document.objects.filter(pk=pk, programme_id__in=visible_programme_ids(user))
        .select_related("programme", "action", "meeting", "funding_request", "tranche__request")
        .first()
    )
    if document is None:
        raise Http404(_("Aucun document accessible à ce numéro."))
    return document


@login_required
def document_download(request: HttpRequest, pk: int) -> HttpResponse:
    """The file, as an attachment typed by its content, never shown in the browser."""
    document = _visible_document(request.user, pk)
    try:
        file = document.file.open("rb")
    except FileNotFoundError as exc:
        raise Http404(_("Le fichier de ce document n'est plus disponible.")) from exc
    kind = uploads.check(file, 0, text=True)
    name = slugify(document.title)[:80] or "document"
    return uploads.download(file, f"{name}-{document.pk}.{kind.extension}", text=True)


@require_POST
@login_required
def document_remove(request: HttpRequest, pk: int) -> HttpResponse:
    document = _visible_document(request.user, pk)
    owner = services.document_owner(document)
    run_from_page(
        request,
        lambda: services.remove_document(
            document=document, actor=request.user, ip=client_ip(request)
        ),
        _("Document « {title} » retiré.").format(title=document.title),
    )
    return redirect(_page_of(owner) + "#documents")
