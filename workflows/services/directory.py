"""The partner directory: organisations added to a programme's directory or renamed, their
contacts added, edited and erased on request, and a fiche's partners.

Who may do what:

- a programme's directory (adding an organisation, a contact for the programme) is kept by
  its coordination (``KEEP_DIRECTORY``);
- an organisation is one record shared by every programme it takes part in, so renaming it or
  changing its sector is for whoever coordinates *all* of them, or the administrator — the
  rule of the programmes' set-up (``may_set_up``), over the programmes ``reporting.directory``
  says it takes part in; the change is written in each of their trails;
- a contact is kept, and erased on request, by the coordination of any programme it is a
  contact for; a person's programmes can only gain or lose those the actor coordinates;
- a fiche's partners are set by whoever may edit the fiche (``EDIT``).

Contacts are personal data and the audit trail is append-only and kept forever: **no event
holds a contact's name, function, e-mail or phone** — only its number (the event's object,
``str(contact)``), its organisation and its programmes, and for an edit the names of the
fields that changed. Erasing a contact deletes its row; the trail keeps that contact n° N of
that organisation was erased, by whom and when.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings
from django.db import models, transaction
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from audit import chain
from directory.models import Contact, Listing
from projects.models import Action, Membership, Organisation, Programme, Role
from reporting import directory

from .actions import EDIT
from .runner import (
    Refused,
    Rule,
    check_seen,
    lock,
    record,
    role_refusal,
    save_once,
    text_input,
    validated,
)

KEEP_DIRECTORY = Rule(
    gettext_lazy("Tenir l'annuaire des partenaires"), frozenset({Role.COORDINATOR})
)
RENAME = gettext_lazy("Modifier une organisation partagée entre dispositifs")
CONTACT_FIELDS = ("first_name", "last_name", "function", "email", "phone")
ORGANISATION_FIELDS = ("name", "kind")


def _names(objects: Iterable[models.Model]) -> str | None:
    return ", ".join(sorted(str(o) for o in objects)) or None


def _trail(obj, *, programme_ids: Iterable[int], actor, event: str, changes, comment="", ip=None):
    """The same event in the chain of each programme concerned."""
    for programme_id in sorted(set(programme_ids)):
        chain.record(
            programme_id=programme_id,
            actor=actor,
            obj=obj,
            event=event,
            changes=changes,
            comment=comment,
            ip=ip,
        )


# --- organisations ---------------------------------------------------------------------------


@transaction.atomic
def add_organisation(
    *, programme: Programme, actor, name: str, kind: str, ip: str | None = None
) -> Organisation:
    """Add an organisation to the programme's directory: the existing one of that name (its
    sector unchanged), or a new one."""
    KEEP_DIRECTORY.check(actor, programme)
    name = text_input(name)
    organisation = Organisation.objects.filter(name__iexact=name).first() if name else None
    if organisation is None:
        organisation = Organisation(name=name, kind=kind)
        validated(organisation)
        save_once(organisation)
        chain.record(
            programme_id=programme.pk,
            actor=actor,
            obj=organisation,
            event="create_structure",
            changes=chain.field_changes({}, {"name": name, "kind": kind}),
            ip=ip,
        )
    elif directory.organisations(programme).filter(pk=organisation.pk).exists():
        message = _("« {name} » est déjà dans l'annuaire du dispositif.").format(
            name=organisation.name
        )
        raise Refused("invalid", message, {"name": [message]})
    record(
        Listing(programme=programme, organisation=organisation),
        programme_id=programme.pk,
        actor=actor,
        event="create_structure",
        after={"organisation": organisation.name},
        ip=ip,
    )
    return organisation


def renamable(actor, programmes_by_organisation: dict[int, set[int]]) -> set[int]:
    """The organisations the actor may rename or re-sector, given the programmes each takes
    part in: the rule of a programme's set-up (``may_set_up``: the administrator, or a
    coordinator of every programme concerned) for several organisations in one query."""
    if actor.is_superuser:
        return {o for o, programme_ids in programmes_by_organisation.items() if programme_ids}
    everywhere = set().union(*programmes_by_organisation.values())
    mine = coordinated_programmes(actor, everywhere)
    return {
        o
        for o, programme_ids in programmes_by_organisation.items()
        if programme_ids and programme_ids <= mine
    }


def organisation_refusal(actor, programme_ids: Iterable[int]) -> Refused | None:
    """Why the actor may not rename an organisation taking part in these programmes."""
    if renamable(actor, {0: set(programme_ids)}):
        return None
    return role_refusal(RENAME, {Role.COORDINATOR}, set())


@transaction.atomic
def update_organisation(
    *, organisation: Organisation, actor, data: dict, seen: int | None = None, ip=None
) -> Organisation:
    """Rename an organisation or change its sector (``data``: ``name``, ``kind``)."""
    unknown = set(data) - set(ORGANISATION_FIELDS)
    if unknown:
        raise ValueError(f"Not organisation fields: {sorted(unknown)}")
    locked = lock(organisation)
    programme_ids = directory.programmes_of([locked.pk]).get(locked.pk, set())
    refusal = organisation_refusal(actor, programme_ids)
    if refusal:
        raise refusal
    check_seen(locked, seen)
    before = {f: getattr(locked, f) for f in ORGANISATION_FIELDS}
    for name, value in data.items():
        setattr(locked, name, text_input(value) if name == "name" else value)
    changes = chain.field_changes(before, {f: getattr(locked, f) for f in ORGANISATION_FIELDS})
    if not changes:
        return locked
    validated(locked)
    locked.save()
    _trail(
        locked,
        programme_ids=programme_ids,
        actor=actor,
        event="update_structure",
        changes=changes,
        ip=ip,
    )
    return locked


# --- contacts --------------------------------------------------------------------------------


def coordinated_programmes(actor, programme_ids: Iterable[int] | None = None) -> set[int]:
    """The programmes the actor coordinates, among ``programme_ids`` if given (one query)."""
    if not actor or not actor.is_authenticated:
        return set()
    memberships = Membership.objects.active().filter(user=actor, role=Role.COORDINATOR)
    if programme_ids is not None:
        memberships = memberships.filter(programme_id__in=list(programme_ids))
    return set(memberships.values_list("programme_id", flat=True))


def may_keep(actor, contact: Contact, programme_ids: Iterable[int] | None = None) -> bool:
    """Whether the actor keeps this contact: coordinates one of its programmes."""
    if programme_ids is None:
        programme_ids = contact.programmes.values_list("pk", flat=True)
    return bool(coordinated_programmes(actor, programme_ids))


def _details(data: dict) -> dict:
    unknown = set(data) - set(CONTACT_FIELDS)
    if unknown:
        raise ValueError(f"Not contact fields: {sorted(unknown)}")
    return {name: text_input(value) for name, value in data.items()}


def _no_programme() -> Refused:
    message = _("Choisissez au moins un dispositif dont l'annuaire montre ce contact.")
    return Refused("invalid", message, {"programmes": [message]})


def _programme_names(programme_ids: Iterable[int]) -> str | None:
    return _names(Programme.objects.filter(pk__in=list(programme_ids)))


def _changed_fields(names: list[str]) -> str:
    """« Coordonnées modifiées : nom, courriel » — the fields, never their values."""
    with translation.override(settings.LANGUAGE_CODE):
        labels = ", ".join(str(Contact._meta.get_field(n).verbose_name) for n in names)
        return _("Coordonnées modifiées : {fields}").format(fields=labels)


@transaction.atomic
def add_contact(
    *,
    organisation: Organisation,
    actor,
    data: dict,
    programmes: Iterable[Programme],
    ip: str | None = None,
) -> Contact:
    """A person to reach in the organisation, shown in the directory of ``programmes`` (each
    coordinated by the actor; at least one)."""
    programme_ids = {p.pk for p in programmes}
    if not programme_ids:
        raise _no_programme()
    if coordinated_programmes(actor, programme_ids) != programme_ids:
        raise role_refusal(KEEP_DIRECTORY.what, KEEP_DIRECTORY.roles, set())
    contact = Contact(organisation=organisation, **_details(data))
    validated(contact)
    save_once(contact)
    contact.programmes.set(programme_ids)
    # The contact's number (the event's object) and organisation: nothing of the person.
    _trail(
        contact,
        programme_ids=programme_ids,
        actor=actor,
        event="create_structure",
        changes=chain.field_changes(
            {},
            {"organisation": organisation.name, "programmes": _programme_names(programme_ids)},
        ),
        ip=ip,
    )
    return contact


@transaction.atomic
def update_contact(
    *,
    contact: Contact,
    actor,
    data: dict,
    programmes: Iterable[Programme] | None = None,
    seen: int | None = None,
    ip: str | None = None,
) -> Contact:
    """Change a contact's details, and (``programmes``) the programmes among those the actor
    coordinates whose directory shows it; the others it is a contact for stay."""
    data = _details(data)
    locked = lock(contact)
    current = set(locked.programmes.values_list("pk", flat=True))
    mine = coordinated_programmes(actor, current)
    if not mine:
        raise role_refusal(KEEP_DIRECTORY.what, KEEP_DIRECTORY.roles, set())
    check_seen(locked, seen)
    wanted = current
    if programmes is not None:
        chosen = {p.pk for p in programmes}
        if coordinated_programmes(actor, chosen) != chosen:
            raise role_refusal(KEEP_DIRECTORY.what, KEEP_DIRECTORY.roles, set())
        wanted = (current - mine) | chosen
        if not wanted:
            raise _no_programme()
    before = {f: getattr(locked, f) for f in CONTACT_FIELDS}
    for name, value in data.items():
        setattr(locked, name, value)
    changed = [f for f in CONTACT_FIELDS if getattr(locked, f) != before[f]]
    if not changed and wanted == current:
        return locked
    validated(locked)
    locked.save()
    changes = {}
    if wanted != current:
        locked.programmes.set(wanted)
        changes = chain.field_changes(
            {"programmes": _programme_names(current)}, {"programmes": _programme_names(wanted)}
        )
    _trail(
        locked,
        programme_ids=current | wanted,
        actor=actor,
        event="update_structure",
        changes=changes,
        comment=_changed_fields(changed) if changed else "",
        ip=ip,
    )
    return locked


ERASED = gettext_lazy(
    "Effacé à la demande de la personne (RGPD) : ses coordonnées ne sont plus conservées."
)


@transaction.atomic
def erase_contact(*, contact: Contact, actor, seen: int | None = None, ip=None) -> int:
    """Erase a contact at the person's request (RGPD right to erasure): the row is deleted
    with its links; each of its programmes' trails records that contact n° N of that
    organisation was erased — no free-text reason, which could name the person. Returns N."""
    locked = lock(contact)
    programme_ids = set(locked.programmes.values_list("pk", flat=True))
    if not may_keep(actor, locked, programme_ids):
        raise role_refusal(_("Effacer un contact"), KEEP_DIRECTORY.roles, set())
    check_seen(locked, seen)
    number = locked.pk
    organisation = locked.organisation.name
    _trail(
        locked,
        programme_ids=programme_ids,
        actor=actor,
        event="erase_contact",
        changes=chain.field_changes({"organisation": organisation}, {"organisation": None}),
        comment=ERASED,
        ip=ip,
    )
    locked.delete()
    return number


# --- a fiche's partners ----------------------------------------------------------------------


@transaction.atomic
def set_partners(
    *,
    action: Action,
    actor,
    organisations: Iterable[Organisation],
    seen: int | None = None,
    ip: str | None = None,
) -> Action:
    """The organisations that take part in the fiche beside its lead (not the lead itself):
    one event of the fiche with the partners before and after, by name."""
    organisations = list(organisations)
    locked = lock(action)
    EDIT.check(actor, locked)
    check_seen(locked, seen)
    if locked.lead_organisation_id in {o.pk for o in organisations}:
        message = _("Le porteur de la fiche n'en est pas aussi partenaire.")
        raise Refused("invalid", message, {"partners": [message]})
    before = _names(locked.partners.all())
    locked.partners.set(organisations)
    after = _names(organisations)
    if before != after:
        chain.record(
            programme_id=locked.programme_id,
            actor=actor,
            obj=locked,
            event="update",
            changes=chain.field_changes({"partners": before}, {"partners": after}),
            ip=ip,
        )
    return locked
