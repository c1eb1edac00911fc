"""A programme's partner directory, read: which organisations take part in the programme (its
members' organisations, its signatories, the leads, partners and funders of its fiches, the
organisations its coordination added, those with a contact for it), and for each one what it
does there — the fiches it leads, funds or partners, the bodies it sits on, its contacts.

``SOURCES`` is the one statement of « takes part in a programme »: the page, its workbook and
the services (who may rename a shared organisation) all read it. Each read is a fixed number
of queries, whatever the number of organisations; nothing here writes.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.db.models import Count, Q, QuerySet
from django.utils import translation

from audit.labels import Labels
from audit.models import AuditEvent
from directory.models import Contact, Listing
from funding.models import FundingRequest
from projects.models import Action, ActionState, Membership, Organisation, Programme, Role

from .shortened import Shortened, shorten


def _sources() -> list[tuple[QuerySet, str, str]]:
    """Each way an organisation takes part in a programme: (rows, their organisation column,
    their programme column). Ended memberships do not count."""
    return [
        (Membership.objects.active(), "organisation", "programme"),
        (Programme.signatories.through.objects.all(), "organisation", "programme"),
        (Action.objects.all(), "lead_organisation", "programme"),
        (Action.partners.through.objects.all(), "organisation", "action__programme"),
        (FundingRequest.objects.all(), "funder", "action__programme"),
        (Listing.objects.all(), "organisation", "programme"),
        (Contact.programmes.through.objects.all(), "contact__organisation", "programme"),
    ]


def organisations(programme: Programme | int) -> QuerySet[Organisation]:
    """Every organisation that takes part in the programme (one query)."""
    programme_id = getattr(programme, "pk", programme)
    condition = Q()
    for rows, organisation, in_programme in _sources():
        condition |= Q(pk__in=rows.filter(**{in_programme: programme_id}).values(organisation))
    return Organisation.objects.filter(condition)


def programmes_of(organisation_ids: Iterable[int]) -> dict[int, set[int]]:
    """The programmes each organisation takes part in (one query)."""
    ids = list(organisation_ids)
    if not ids:
        return {}
    parts = [
        rows.filter(**{f"{organisation}__in": ids}).order_by().values_list(organisation, programme)
        for rows, organisation, programme in _sources()
    ]
    found: dict[int, set[int]] = defaultdict(set)
    for organisation_id, programme_id in parts[0].union(*parts[1:]):
        found[organisation_id].add(programme_id)
    return dict(found)


def search(queryset: QuerySet[Organisation], programme: Programme, text: str) -> QuerySet:
    """Organisations whose name, or one of whose contacts for the programme (name, function),
    contains ``text``."""
    contacts = Contact.objects.filter(programmes=programme).filter(
        Q(last_name__icontains=text) | Q(first_name__icontains=text) | Q(function__icontains=text)
    )
    return queryset.filter(Q(name__icontains=text) | Q(pk__in=contacts.values("organisation")))


@dataclass(frozen=True)
class Fiche:
    pk: int
    title: str
    state: str

    @property
    def state_label(self) -> str:
        return str(ActionState(self.state).label)


@dataclass(frozen=True)
class Grant:
    """A funding request addressed to the organisation."""

    fiche: Fiche
    scheme: str
    year: int
    state: str
    requested: Decimal
    granted: Decimal | None

    @property
    def state_label(self) -> str:
        return str(FundingRequest.State(self.state).label)


@dataclass(frozen=True)
class Seat:
    """People of the organisation in one body of the programme."""

    role: str
    working_group: str
    people: int

    @property
    def label(self) -> str:
        if self.role == Role.WG_MEMBER:
            return translation.gettext("Groupe de travail « {name} »").format(
                name=self.working_group
            )
        return str(Role(self.role).label)


# The bodies a membership sits in (the other roles are not bodies: funder, lead, signatory).
BODY_ROLES = (Role.COPIL, Role.COTECH, Role.WG_MEMBER)


@dataclass
class Entry:
    """One organisation of the directory and what it does in the programme."""

    organisation: Organisation
    signatory: bool = False
    listed: bool = False
    leads: list[Fiche] = field(default_factory=list)
    grants: list[Grant] = field(default_factory=list)
    partners: list[Fiche] = field(default_factory=list)
    seats: list[Seat] = field(default_factory=list)
    contacts: list[Contact] = field(default_factory=list)
    shown: int | None = None  # how many fiches of each list a page shows (None: all)

    @property
    def leads_listed(self) -> Shortened:
        return shorten(self.leads, self.shown)

    @property
    def grants_listed(self) -> Shortened:
        return shorten(self.grants, self.shown)

    @property
    def partners_listed(self) -> Shortened:
        return shorten(self.partners, self.shown)


def entries(
    programme: Programme, orgs: Iterable[Organisation], shown: int | None = None
) -> list[Entry]:
    """The directory's entries for ``orgs`` (organisations of the programme), in their order:
    seven queries, whatever their number (``shown``: how many fiches of each of their lists
    a page names, the others counted)."""
    found = {o.pk: Entry(o, shown=shown) for o in orgs}
    ids = list(found)
    if not ids:
        return []
    for pk in programme.signatories.filter(pk__in=ids).values_list("pk", flat=True):
        found[pk].signatory = True
    for pk in Listing.objects.filter(programme=programme, organisation__in=ids).values_list(
        "organisation", flat=True
    ):
        found[pk].listed = True
    for pk, title, state, lead in (
        Action.objects.filter(programme=programme, lead_organisation__in=ids)
        .order_by("title")
        .values_list("pk", "title", "state", "lead_organisation")
    ):
        found[lead].leads.append(Fiche(pk, title, state))
    for pk, title, state, partner in (
        Action.partners.through.objects.filter(action__programme=programme, organisation__in=ids)
        .order_by("action__title")
        .values_list("action", "action__title", "action__state", "organisation")
    ):
        found[partner].partners.append(Fiche(pk, title, state))
    for pk, title, action_state, funder, scheme, year, state, requested, granted in (
        FundingRequest.objects.filter(action__programme=programme, funder__in=ids)
        .order_by("action__title", "year", "scheme")
        .values_list(
            "action",
            "action__title",
            "action__state",
            "funder",
            "scheme",
            "year",
            "state",
            "requested_amount",
            "granted_amount",
        )
    ):
        found[funder].grants.append(
            Grant(Fiche(pk, title, action_state), scheme, year, state, requested, granted)
        )
    order = {role: i for i, role in enumerate(BODY_ROLES)}
    seats = (
        Membership.objects.active()
        .filter(programme=programme, organisation__in=ids, role__in=BODY_ROLES)
        .order_by()
        .values_list("organisation", "role", "working_group__name")
        .annotate(people=Count("user", distinct=True))
    )
    for organisation, role, group, people in sorted(seats, key=lambda s: (order[s[1]], s[2] or "")):
        found[organisation].seats.append(Seat(role, group or "", people))
    for contact in Contact.objects.filter(programmes=programme, organisation__in=ids).order_by(
        "last_name", "first_name", "pk"
    ):
        found[contact.organisation_id].contacts.append(contact)
    return list(found.values())


def contact_record(contact: Contact) -> dict:
    """Everything Coordo holds about a contact, for the person who asks for it (RGPD right of
    access): their details, their organisation, the programmes they are a contact for, and
    the trail's events about them (which hold their number only). In French."""
    labels = Labels(settings.LANGUAGE_CODE)
    with translation.override(settings.LANGUAGE_CODE):
        events = (
            AuditEvent.objects.filter(object_type="directory.contact", object_id=str(contact.pk))
            .select_related("programme")
            .order_by("at", "pk")
        )
        return {
            "contact": {
                "numéro": contact.pk,
                "prénom": contact.first_name,
                "nom": contact.last_name,
                "fonction": contact.function,
                "courriel professionnel": contact.email,
                "téléphone professionnel": contact.phone,
                "ajouté le": contact.created_at.isoformat(),
                "modifié le": contact.updated_at.isoformat(),
            },
            "organisation": {
                "nom": contact.organisation.name,
                "secteur": contact.organisation.get_kind_display(),
            },
            "contact pour les dispositifs": sorted(
                contact.programmes.values_list("name", flat=True)
            ),
            "journal d'audit": [
                {
                    "date": event.at.isoformat(),
                    "dispositif": event.programme.name,
                    "événement": labels.event_label(event.object_type, event.event),
                    "par": event.actor_label,
                    "modifications": labels.changes_text(event.object_type, event.changes),
                    "commentaire": event.comment,
                }
                for event in events
            ],
            "finalité": (
                "Annuaire des partenaires du dispositif : joindre la personne au titre de ses "
                "fonctions dans son organisation."
            ),
        }
