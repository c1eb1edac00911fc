"""The places of a programme's territory (communes, EPCI, QPV), maintained by its coordination,
each change audited in the programme's chain. A place a fiche targets is not removed: the
fiche would silently lose part of its territory."""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext as _

from audit import chain
from projects.models import Place, Programme

from .programme import check_set_up
from .runner import Refused, lock, record, text_input


def _values(place: Place) -> dict[str, object]:
    with translation.override(settings.LANGUAGE_CODE):
        return {"kind": str(place.get_kind_display()), "name": place.name}


@transaction.atomic
def add_place(*, programme: Programme, actor, kind: str, name: str, ip: str | None = None) -> Place:
    """A commune, the EPCI or a QPV of the programme's territory (each name once per kind: a
    double submit is refused)."""
    check_set_up(actor, programme.pk)
    lock(programme)  # one list at a time
    place = Place(programme=programme, kind=kind, name=text_input(name)[:200])
    return record(
        place,
        programme_id=programme.pk,
        actor=actor,
        event="create_structure",
        after=_values(place),
        ip=ip,
    )


@transaction.atomic
def remove_place(*, place: Place, actor, ip: str | None = None) -> None:
    """Remove a place no fiche targets (refused otherwise, naming the fiches)."""
    check_set_up(actor, place.programme_id)
    locked = Place.objects.select_for_update().filter(pk=place.pk).first()
    if locked is None:
        raise Refused("already_moved", _("Ce lieu a déjà été retiré : rien n'a été enregistré."))
    titles = list(locked.actions.order_by("title").values_list("title", flat=True)[:5])
    if titles:
        raise Refused(
            "invalid",
            _(
                "Des fiches actions ciblent ce lieu : {titles}. Retirez-le d'abord de leur "
                "territoire."
            ).format(titles=", ".join(f"« {t} »" for t in titles)),
        )
    chain.record(
        programme_id=locked.programme_id,
        actor=actor,
        obj=locked,
        event="remove_place",
        changes=chain.field_changes(_values(locked), {"kind": None, "name": None}),
        ip=ip,
    )
    locked.delete()
