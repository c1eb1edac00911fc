"""The CLSM's own work: the resource unit's sessions (anonymous counts only: the models'
``clsm.anonymity`` validator refuses whatever looks like a person, whoever writes), its
trainings and awareness events, and the observation indicators of the territory with their
yearly values. Only for a CLSM; the coordination writes, every member reads. Each change is
one audit event in the programme's chain; a page posts the version it saw."""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import suppress
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from audit import chain
from clsm.models import ObservationIndicator, ObservationValue, ResourceSession, TrainingSession
from projects.models import Organisation, Programme, Role
from reporting.directory import organisations

from .runner import Refused, Rule, check_seen, lock, record, validated

# The coordination keeps the CLSM's records; COPIL, members and the ARS referent read them.
KEEP_CLSM = Rule(gettext_lazy("Tenir les travaux du CLSM"), frozenset({Role.COORDINATOR}))

SESSION_COUNTS = tuple(n for n, _l in ResourceSession.NEEDS + ResourceSession.OUTCOMES)
TRAINING_FIELDS = (
    "kind",
    "title",
    "date",
    "audience",
    "attendance",
    "satisfied_percent",
    "mean_score",
    "action",
)


def _check(actor, programme: Programme) -> None:
    if not programme.is_clsm:
        raise Refused("invalid", _("Les travaux propres du CLSM n'existent que pour un CLSM."))
    KEEP_CLSM.check(actor, programme)


def _values(obj, names: Iterable[str]) -> dict[str, object]:
    with translation.override(settings.LANGUAGE_CODE):
        return {n: chain.json_value(getattr(obj, n)) for n in names}


def _names(orgs) -> str:
    return ", ".join(sorted(str(o) for o in orgs))


def _partners(programme: Programme, partners: Iterable[Organisation]) -> list[Organisation]:
    partners = list(partners)
    known = set(organisations(programme).values_list("pk", flat=True))
    if any(o.pk not in known for o in partners):
        message = _("Choisissez des organisations partenaires de ce dispositif.")
        raise Refused("invalid", message, {"partners": [message]})
    return partners


def _session_values(session: ResourceSession, partners) -> dict[str, object]:
    values = _values(session, ("date", *SESSION_COUNTS, "notes"))
    values["partners"] = _names(partners)
    return values


# --- The resource unit ------------------------------------------------------------------------


@transaction.atomic
def record_resource_session(
    *,
    programme: Programme,
    actor,
    date,
    partners: Iterable[Organisation] = (),
    notes: str = "",
    ip: str | None = None,
    **counts: int,
) -> ResourceSession:
    """A session of the resource unit: its date, the partners present and how many situations
    it examined by need and by outcome (``counts``: ``SESSION_COUNTS``) — never who."""
    unknown = set(counts) - set(SESSION_COUNTS)
    if unknown:
        raise TypeError(f"Not counts of a session: {sorted(unknown)}")
    _check(actor, programme)
    lock(programme)  # one session per day: the second of a double submit finds the first
    partners = _partners(programme, partners)
    session = ResourceSession(
        programme=programme, date=date, notes=(notes or "").strip(), created_by=actor, **counts
    )
    record(
        session,
        programme_id=programme.pk,
        actor=actor,
        event="record_resource_session",
        after=_session_values(session, partners),
        ip=ip,
    )
    session.partners.set(partners)
    return session


@transaction.atomic
def update_resource_session(
    *,
    session: ResourceSession,
    actor,
    data: dict,
    partners: Iterable[Organisation] | None = None,
    seen: int | None = None,
    ip: str | None = None,
) -> ResourceSession:
    """Correct a session (its date, counts or notes; ``partners``: None to keep them)."""
    unknown = set(data) - {"date", "notes", *SESSION_COUNTS}
    if unknown:
        raise TypeError(f"Not fields of a session: {sorted(unknown)}")
    locked = (
        ResourceSession.objects.select_related("programme")
        .select_for_update(of=("self",))
        .get(pk=session.pk)
    )
    _check(actor, locked.programme)
    check_seen(locked, seen)
    partners = None if partners is None else _partners(locked.programme, partners)
    before = _session_values(locked, locked.partners.all())
    for name, value in data.items():
        setattr(locked, name, value.strip() if name == "notes" else value)
    after = _session_values(locked, locked.partners.all() if partners is None else partners)
    if before == after:
        return locked
    record(
        locked,
        programme_id=locked.programme_id,
        actor=actor,
        event="update_resource_session",
        before=before,
        after=after,
        ip=ip,
    )
    if partners is not None:
        locked.partners.set(partners)
    return locked


# --- Trainings and awareness events -----------------------------------------------------------


@transaction.atomic
def record_training(*, programme: Programme, actor, data: dict, ip: str | None = None):
    """A training or an awareness event held, with its attendance and satisfaction."""
    unknown = set(data) - set(TRAINING_FIELDS)
    if unknown:
        raise TypeError(f"Not fields of a training: {sorted(unknown)}")
    _check(actor, programme)
    lock(programme)
    session = TrainingSession(programme=programme, created_by=actor, **data)
    if isinstance(session.title, str):
        session.title = session.title.strip()
    return record(
        session,
        programme_id=programme.pk,
        actor=actor,
        event="record_training",
        after=_values(session, TRAINING_FIELDS),
        ip=ip,
    )


@transaction.atomic
def update_training(
    *, session: TrainingSession, actor, data: dict, seen: int | None = None, ip: str | None = None
) -> TrainingSession:
    unknown = set(data) - set(TRAINING_FIELDS)
    if unknown:
        raise TypeError(f"Not fields of a training: {sorted(unknown)}")
    locked = (
        TrainingSession.objects.select_related("programme", "action")
        .select_for_update(of=("self",))
        .get(pk=session.pk)
    )
    _check(actor, locked.programme)
    check_seen(locked, seen)
    before = _values(locked, TRAINING_FIELDS)
    for name, value in data.items():
        setattr(locked, name, value)
    after = _values(locked, TRAINING_FIELDS)
    if before == after:
        return locked
    return record(
        locked,
        programme_id=locked.programme_id,
        actor=actor,
        event="update_training",
        before=before,
        after=after,
        ip=ip,
    )


# --- Observation of the territory --------------------------------------------------------------


@transaction.atomic
def add_observation_indicator(
    *, programme: Programme, actor, name: str, unit: str, source: str, ip: str | None = None
) -> ObservationIndicator:
    """A figure of the territory the CLSM follows over the years, with its source."""
    _check(actor, programme)
    lock(programme)
    indicator = ObservationIndicator(
        programme=programme,
        name=(name or "").strip(),
        unit=(unit or "").strip(),
        source=(source or "").strip(),
    )
    return record(
        indicator,
        programme_id=programme.pk,
        actor=actor,
        event="add_observation_indicator",
        after=_values(indicator, ("name", "unit", "source")),
        ip=ip,
    )


@transaction.atomic
def set_observation_value(
    *,
    indicator: ObservationIndicator,
    actor,
    year: int,
    value: Decimal,
    seen: int | None = None,
    ip: str | None = None,
) -> ObservationValue:
    """The indicator's value for ``year`` (entered, or corrected): one event of the
    indicator, whose version then moves."""
    locked = (
        ObservationIndicator.objects.select_related("programme")
        .select_for_update(of=("self",))
        .get(pk=indicator.pk)
    )
    _check(actor, locked.programme)
    check_seen(locked, seen)
    with suppress(InvalidOperation):  # too large: the validation below says so
        value = Decimal(value).quantize(Decimal("0.01"))  # as stored, so the trail says it
    row = ObservationValue.objects.filter(indicator=locked, year=year).first()
    before = row.value if row else None
    row = row or ObservationValue(indicator=locked, year=year, value=value)
    row.value = value
    validated(row)
    if before is not None and chain.json_value(before) == chain.json_value(value):
        return row
    row.save()
    chain.record(
        programme_id=locked.programme_id,
        actor=actor,
        obj=locked,
        event="set_observation_value",
        changes=chain.field_changes(
            {"observed_value": None if before is None else f"{year} : {before}"},
            {"observed_value": f"{year} : {value}"},
        ),
        ip=ip,
    )
    return row
