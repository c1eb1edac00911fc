"""Documents attached to a programme, a fiche, a séance, a funding request or a payment: who may
attach or remove one, each upload and removal in the trail with the file's SHA-256."""

from __future__ import annotations

from django.core.files.storage import default_storage
from django.db import models, transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

import uploads
from audit import chain
from documents.models import Document
from funding.models import FundingRequest, Tranche
from projects.models import Action, Meeting, Programme, Role

from .runner import Refused, Rule, lock, stored_upload, text_input

_ATTACH = gettext_lazy("Joindre ou retirer un document")
# Who may attach (and remove) a document, by what it belongs to; the scoped roles apply to
# their own fiche or funder. Everyone who may see the object may download it.
ATTACH = {
    "programme": Rule(_ATTACH, frozenset({Role.COORDINATOR})),
    "action": Rule(_ATTACH, frozenset({Role.COORDINATOR, Role.ACTION_LEAD})),
    "meeting": Rule(_ATTACH, frozenset({Role.COORDINATOR})),
    "funding_request": Rule(_ATTACH, frozenset({Role.COORDINATOR, Role.ACTION_LEAD, Role.FUNDER})),
    "tranche": Rule(_ATTACH, frozenset({Role.COORDINATOR, Role.FUNDER})),
}
OWNERS = {
    Programme: "programme",
    Action: "action",
    Meeting: "meeting",
    FundingRequest: "funding_request",
    Tranche: "tranche",
}


def owner_kind(owner: models.Model) -> str:
    return OWNERS[type(owner)]


def may_attach(actor, owner: models.Model, *, roles: set[str] | None = None) -> bool:
    return ATTACH[owner_kind(owner)].allows(actor, owner, roles=roles)


def _links(owner: models.Model) -> dict[str, models.Model]:
    """The document's programme, fiche, séance, request and payment, from its owner."""
    if isinstance(owner, Programme):
        return {"programme": owner}
    if isinstance(owner, Meeting):
        return {"programme": owner.programme, "meeting": owner}
    if isinstance(owner, Action):
        return {"programme": owner.programme, "action": owner}
    if isinstance(owner, FundingRequest):
        return {**_links(owner.action), "funding_request": owner}
    return {**_links(owner.request), "tranche": owner}


_OPTIONAL = ("action", "meeting", "funding_request", "tranche")


def _changes(document: Document, present: bool) -> dict[str, list]:
    values = {
        "title": document.title,
        "kind": document.kind,
        "format": document.format,
        "size": document.size,
        "sha256": document.sha256,
    }
    return {k: [None, v] if present else [v, None] for k, v in values.items()}


@transaction.atomic
def attach_document(
    *, owner: models.Model, actor, file, kind: str, title: str = "", ip: str | None = None
) -> Document:
    """Attach ``file`` to ``owner`` (checked by its content, 20 MB at most), titled by
    ``title`` or the file's name."""
    owner = lock(owner)
    which = owner_kind(owner)
    ATTACH[which].check(actor, owner)
    if kind not in Document.KINDS[which]:
        offered = ", ".join(str(Document.Kind(k).label) for k in Document.KINDS[which])
        message = _("Cette nature de document ne se joint pas ici : choisissez parmi {kinds}.")
        raise Refused("invalid", message.format(kinds=offered), {"kind": [_("Choix invalide.")]})
    if file is None:
        raise Refused(
            "invalid", _("Choisissez le fichier à joindre."), {"file": [_("Obligatoire.")]}
        )
    title = text_input(title) or (file.name or "").rsplit("/", 1)[-1][:200]
    if not title:
        raise Refused("invalid", _("Donnez un titre au document."), {"title": [_("Obligatoire.")]})
    if len(title) > 200:
        message = _("Le titre dépasse 200 caractères.")
        raise Refused("invalid", message, {"title": [message]})
    links = _links(owner)
    with stored_upload(file, "file", "documents", limit=uploads.DOCUMENT_MAX_BYTES, text=True) as (
        stored,
        found,
        digest,
    ):
        twin = Document.objects.filter(
            sha256=digest, **{f"{k}__isnull": k not in links for k in _OPTIONAL}, **links
        ).first()
        if twin is not None:  # a double click, or the same file sent twice
            raise Refused(
                "invalid",
                _("Ce fichier est déjà joint ici (« {title} »).").format(title=twin.title),
                {"file": [_("Déjà joint.")]},
            )
        document = Document.objects.create(
            **links,
            kind=kind,
            title=title,
            file=stored,
            format=found.label,
            size=file.size,
            sha256=digest,
            uploaded_by=actor,
        )
        chain.record(
            programme_id=document.programme_id,
            actor=actor,
            obj=document,
            event="attach_document",
            changes=_changes(document, True),
            ip=ip,
        )
    return document


def document_owner(document: Document) -> models.Model:
    return getattr(document, document.owner_kind)


@transaction.atomic
def remove_document(*, document: Document, actor, ip: str | None = None) -> None:
    """Remove a document (by whoever may attach one there); its file goes once the removal is
    saved, its title and SHA-256 stay in the trail."""
    locked = Document.objects.select_for_update().filter(pk=document.pk).first()
    if locked is None:
        raise Refused("already_moved", _("Ce document a déjà été retiré."))
    ATTACH[locked.owner_kind].check(actor, document_owner(locked))
    chain.record(
        programme_id=locked.programme_id,
        actor=actor,
        obj=locked,
        event="remove_document",
        changes=_changes(locked, False),
        ip=ip,
    )
    path = locked.file.name
    locked.delete()
    transaction.on_commit(lambda: default_storage.delete(path))
