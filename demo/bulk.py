"""A region's worth of data for the load benchmark, fast: ``seed_demo --load-region N``.

One *model programme* is built the slow, honest way — through the services, one fiche in
every state of the lifecycle, with its budget, funding requests and payments, indicators,
opinions, snapshots, viewflow processes and tasks, and its audit trail. Then it is copied row
by row with bulk inserts: N programmes (each with its own coordinator, COPIL member, funder
and lead accounts), each with ``per_programme`` fiches copied from the model's fiches in turn.
Every copy's audit events are appended to its programme's chain and sealed again, one after
the other, exactly as ``audit.chain.record`` seals them, so ``verify_audit`` verifies every
chain. Copies are copies: their timestamps and texts are the model's (with their own titles).

Only the demo layer writes like this (benchmark data, never a real programme's).
"""

from __future__ import annotations

import multiprocessing
import os
import time
from collections import defaultdict
from dataclasses import dataclass, field
from functools import partial
from types import SimpleNamespace

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.db import connection, connections, models, transaction
from psycopg.types.json import Jsonb
from viewflow.workflow.models import Process, Task

from audit import chain
from audit.models import AuditEvent
from evaluation.models import EvaluationReport, Indicator, Measurement
from funding.models import BudgetLine, FundingRequest, Tranche
from projects.models import (
    Action,
    ActionSnapshot,
    Axis,
    Membership,
    Objective,
    Opinion,
    Programme,
    WorkingGroup,
)

# What a programme is made of, and what a fiche is made of, parents before children.
PROGRAMME_PARTS = [Axis, Objective, WorkingGroup, Membership]
FICHE_PARTS = [
    ActionSnapshot,
    Opinion,
    BudgetLine,
    FundingRequest,
    Indicator,
    EvaluationReport,
    Tranche,
    Measurement,
]


def store(model, rows: list[dict]) -> None:
    """Insert ``rows`` (column values by attribute name, ``id`` None) and set their ids. On
    PostgreSQL: ids drawn from the table's sequence, then one COPY (the benchmark's region is
    millions of rows); elsewhere, ``bulk_create``."""
    if not rows:
        return
    if connection.vendor != "postgresql":
        objs = [model(**row) for row in rows]
        model.objects.bulk_create(objs, batch_size=500)
        for row, obj in zip(rows, objs, strict=True):
            row["id"] = obj.pk
        return
    fields = model._meta.concrete_fields
    table = model._meta.db_table
    quote = connection.ops.quote_name
    # Django's own fields take the Python value as it is; JSON is wrapped; other fields
    # (viewflow's references to flows and tasks) prepare theirs.
    plain = [type(f).__module__.startswith("django.db.models") for f in fields]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
            [table, len(rows)],
        )
        for row, (pk,) in zip(rows, cursor.fetchall(), strict=True):
            row["id"] = pk
        columns = ", ".join(quote(f.column) for f in fields)
        with cursor.cursor.copy(f"COPY {quote(table)} ({columns}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(
                    [_column(f, p, row[f.attname]) for f, p in zip(fields, plain, strict=True)]
                )


def _column(field, plain: bool, value):
    if value is None:
        return None
    if isinstance(field, models.JSONField):
        return Jsonb(value)
    return value if plain else field.get_db_prep_save(value, connection)


def _rows(queryset) -> list[dict]:
    fields = [f.attname for f in queryset.model._meta.concrete_fields]
    return list(queryset.order_by("pk").values(*fields))


@dataclass
class FicheModel:
    """One fiche of the model programme and everything that hangs from it."""

    action: dict
    parts: dict = field(default_factory=dict)  # model -> rows
    partners: list[int] = field(default_factory=list)
    processes: list[dict] = field(default_factory=list)
    tasks: list[dict] = field(default_factory=list)
    previous: list[tuple[int, int]] = field(default_factory=list)
    events: list[dict] = field(default_factory=list)


class RegionCopier:
    def __init__(self, model: Programme):
        self.model = model
        self.types = {m: ContentType.objects.get_for_model(m) for m in (Action, FundingRequest)}
        self.programme_parts = {
            Axis: _rows(Axis.objects.filter(programme=model)),
            Objective: _rows(Objective.objects.filter(axis__programme=model)),
            WorkingGroup: _rows(WorkingGroup.objects.filter(programme=model)),
            Membership: _rows(Membership.objects.filter(programme=model)),
        }
        self.programme = _rows(Programme.objects.filter(pk=model.pk))[0]
        owned = {m._meta.label_lower for m in (Programme, *PROGRAMME_PARTS, Action, *FICHE_PARTS)}
        events = _rows(AuditEvent.objects.filter(programme=model).order_by("seq"))
        self.programme_events = [
            e for e in events if e["action_id"] is None and e["object_type"] in owned
        ]
        self.fiches = []
        for action in _rows(Action.objects.filter(programme=model)):
            fiche = FicheModel(action=action)
            for part in FICHE_PARTS:
                link = {
                    Tranche: "request__action",
                    Measurement: "indicator__action",
                }.get(part, "action")
                fiche.parts[part] = _rows(part.objects.filter(**{link: action["id"]}))
            fiche.partners = list(
                Action.partners.through.objects.filter(action_id=action["id"]).values_list(
                    "organisation_id", flat=True
                )
            )
            requests = [r["id"] for r in fiche.parts[FundingRequest]]
            fiche.processes = _rows(
                Process.objects.filter(
                    models.Q(
                        artifact_content_type=self.types[Action], artifact_object_id=action["id"]
                    )
                    | models.Q(
                        artifact_content_type=self.types[FundingRequest],
                        artifact_object_id__in=requests,
                    )
                )
            )
            process_ids = [p["id"] for p in fiche.processes]
            fiche.tasks = _rows(Task.objects.filter(process_id__in=process_ids))
            fiche.previous = list(
                Task.previous.through.objects.filter(
                    from_task__process_id__in=process_ids
                ).values_list("from_task_id", "to_task_id")
            )
            fiche.events = [
                e for e in events if e["action_id"] == action["id"] and e["object_type"] in owned
            ]
            self.fiches.append(fiche)

    # --- copying rows ---------------------------------------------------------------------

    @staticmethod
    def _copy(model, rows: list[dict], ids: dict, **fixed) -> list[dict]:
        """Copies of ``rows`` (without ids), their references to copied objects redirected."""
        links = [
            f.attname
            for f in model._meta.concrete_fields
            if (f.many_to_one or f.one_to_one) and f.related_model in ids
        ]
        maps = [ids[f.related_model] for f in model._meta.concrete_fields if f.attname in links]
        copies = []
        for row in rows:
            values = {**row, "id": None, **fixed}
            for name, known in zip(links, maps, strict=True):
                old = values[name]
                if old is not None:
                    values[name] = known.get(old, old)
            copies.append(values)
        return copies

    def _insert(self, model, rows, ids, **fixed) -> None:
        copies = self._copy(model, rows, ids, **fixed)
        store(model, copies)
        ids[model].update((row["id"], copy["id"]) for row, copy in zip(rows, copies, strict=True))

    def _insert_per_copy(self, model, plan, per_copy, rows_of) -> None:
        """The rows of every copy at once (one insert), each copy's ids map completed."""
        pending = [
            (rows_of(fiche), copy_ids) for (fiche, _n), copy_ids in zip(plan, per_copy, strict=True)
        ]
        copies = [self._copy(model, rows, copy_ids) for rows, copy_ids in pending]
        store(model, [c for cs in copies for c in cs])
        for (rows, copy_ids), cs in zip(pending, copies, strict=True):
            copy_ids[model] = {r["id"]: c["id"] for r, c in zip(rows, cs, strict=True)}

    # --- a programme ----------------------------------------------------------------------

    def programme_copy(self, number: int, users: dict[int, int]) -> tuple[Programme, dict]:
        """A new programme with the model's structure, its members played by new accounts
        (``users``: model account id -> new account id). Returns it and the ids map."""
        ids: dict = defaultdict(dict)
        ids[get_user_model()] = users
        name = NAME.format(number=number)
        programme = Programme(**{**self.programme, "id": None, "name": name})
        programme.save(force_insert=True)
        ids[Programme][self.model.pk] = programme.pk
        for part in PROGRAMME_PARTS:
            self._insert(part, self.programme_parts[part], ids)
        return programme, ids

    def fiches_copy(self, programme: Programme, ids: dict, count: int, first: int) -> list[dict]:
        """``count`` fiches copied into ``programme`` from the model's fiches in turn, numbered
        from ``first``. Returns their audit events (unsealed, in order)."""
        plan = [(self.fiches[n % len(self.fiches)], first + n) for n in range(count)]
        actions = [
            {
                **self._copy(Action, [fiche.action], ids)[0],
                "title": f"Action de la région n° {n}",
                "programme_id": programme.pk,
                "merged_into_id": None,
            }
            for fiche, n in plan
        ]
        store(Action, actions)
        per_copy = []  # each copy's ids map: the model's ids -> the copy's
        for (fiche, _n), action in zip(plan, actions, strict=True):
            copy_ids = defaultdict(dict, ids)
            copy_ids[Action] = {fiche.action["id"]: action["id"]}
            per_copy.append(copy_ids)
        store(
            Action.partners.through,
            [
                {"id": None, "action_id": action["id"], "organisation_id": org}
                for (fiche, _n), action in zip(plan, actions, strict=True)
                for org in fiche.partners
            ],
        )
        for part in FICHE_PARTS:
            self._insert_per_copy(part, plan, per_copy, lambda fiche, part=part: fiche.parts[part])
        # The processes following each copy (a fiche, its funding requests), and their tasks.
        pending = []
        for (fiche, _n), copy_ids in zip(plan, per_copy, strict=True):
            copies = []
            for p in fiche.processes:
                kind = Action if p["artifact_content_type_id"] == self.types[Action].pk else None
                followed = copy_ids[kind or FundingRequest][p["artifact_object_id"]]
                copies.append({**p, "id": None, "artifact_object_id": followed})
            pending.append((fiche.processes, copies, copy_ids))
        store(Process, [c for _, copies, _ in pending for c in copies])
        for rows, copies, copy_ids in pending:
            copy_ids[Process] = {r["id"]: c["id"] for r, c in zip(rows, copies, strict=True)}
        self._insert_per_copy(Task, plan, per_copy, lambda fiche: fiche.tasks)
        store(
            Task.previous.through,
            [
                {"id": None, "from_task_id": copy_ids[Task][a], "to_task_id": copy_ids[Task][b]}
                for (fiche, _n), copy_ids in zip(plan, per_copy, strict=True)
                for a, b in fiche.previous
            ],
        )
        # The trail of each copy, its objects' ids and names redirected.
        events = []
        for (fiche, _n), action, copy_ids in zip(plan, actions, per_copy, strict=True):
            by_type = {m._meta.label_lower: m for m in copy_ids}
            users = ids[get_user_model()]
            for e in fiche.events:
                model = by_type.get(e["object_type"])
                object_id = e["object_id"]
                if model is not None:
                    object_id = str(copy_ids[model].get(int(object_id), object_id))
                events.append(
                    {
                        **e,
                        "object_id": object_id,
                        "action_id": action["id"],
                        "object_repr": e["object_repr"].replace(
                            fiche.action["title"], action["title"]
                        ),
                        "actor_id": users.get(e["actor_id"], e["actor_id"]),
                    }
                )
        return events

    # --- the trail ------------------------------------------------------------------------

    def seal(self, programme: Programme, events: list[dict], labels: dict[int, str]) -> int:
        """Append ``events`` to the programme's chain, sealed one after the other as
        ``audit.chain.record`` seals them."""
        last = (
            AuditEvent.objects.filter(programme=programme)
            .order_by("-seq")
            .values("seq", "hash")
            .first()
        )
        seq, prev = (last["seq"], last["hash"]) if last else (0, chain.GENESIS_HASH)
        rows = []
        for e in events:
            seq += 1
            row = {
                **e,
                "id": None,
                "programme_id": programme.pk,
                "seq": seq,
                "actor_label": labels.get(e["actor_id"], e["actor_label"]),
                "key_id": settings.AUDIT_CHAIN_KEY_ID,
                "names_sealed": False,
                "prev_hash": prev,
            }
            row["hash"] = prev = chain.compute_hash(SimpleNamespace(**row))
            rows.append(row)
        store(AuditEvent, rows)
        return len(rows)


NAME = "CLS de la région n° {number:03d}"
_copiers: dict[int, RegionCopier] = {}  # one per process: the model, read once


def seed_region(
    model: Programme, *, programmes: int, per_programme: int, password_hash: str, log
) -> None:
    """Programmes n° 1 to ``programmes`` (those missing) copied from ``model`` with
    ``per_programme`` fiches each; on PostgreSQL by as many processes as cores, so that the
    database and the copying work at once."""
    started = time.monotonic()
    present = set(
        Programme.objects.filter(name__startswith=NAME.split("{")[0]).values_list("name", flat=True)
    )
    numbers = [n for n in range(1, programmes + 1) if NAME.format(number=n) not in present]
    chunks = [numbers[i : i + 5] for i in range(0, len(numbers), 5)]
    job = partial(_copy_programmes, model.pk, per_programme, password_hash)
    workers = os.cpu_count() or 1
    fiches = events = copied = 0

    def progress(results) -> None:
        nonlocal fiches, events, copied
        for chunk_fiches, chunk_events, count in results:
            fiches, events, copied = fiches + chunk_fiches, events + chunk_events, copied + count
            elapsed = time.monotonic() - started
            if copied % 20 == 0 or copied == len(numbers):
                log(
                    f"  {copied}/{len(numbers)} dispositifs, {fiches} fiches, {events} "
                    f"événements ({elapsed:.0f} s, {fiches / max(elapsed, 0.001):.0f} fiches/s)"
                )

    if workers > 1 and connection.vendor == "postgresql" and len(chunks) > 1:
        connections.close_all()  # each process opens its own
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            progress(pool.imap_unordered(job, chunks))
    else:
        progress(map(job, chunks))


def _copy_programmes(
    model_pk: int, per_programme: int, password_hash: str, numbers: list[int]
) -> tuple[int, int, int]:
    """Copy the model into the programmes ``numbers``: (fiches, events, programmes) made."""
    if model_pk not in _copiers:
        _copiers[model_pk] = RegionCopier(Programme.objects.get(pk=model_pk))
    copier = _copiers[model_pk]
    User = get_user_model()
    members = sorted({m["user_id"] for m in copier.programme_parts[Membership]})
    template_users = {u.pk: u for u in User.objects.filter(pk__in=members)}
    fiches = events = 0
    for number in numbers:
        with transaction.atomic():
            users = [
                User(
                    username=f"region{number:03d}.{template_users[pk].username}",
                    first_name=template_users[pk].first_name,
                    last_name=f"{template_users[pk].last_name} {number:03d}",
                    email=f"region{number:03d}.{template_users[pk].username}@example.org",
                    password=password_hash,
                )
                for pk in members
            ]
            User.objects.bulk_create(users)
            user_ids = {pk: u.pk for pk, u in zip(members, users, strict=True)}
            labels = {u.pk: chain.actor_label(u) for u in users}
            programme, ids = copier.programme_copy(number, user_ids)
            trail = [
                {
                    **e,
                    "object_id": str(
                        ids[m].get(int(e["object_id"]), e["object_id"])
                        if (m := _model_of(e["object_type"], ids)) is not None
                        else e["object_id"]
                    ),
                    "actor_id": user_ids.get(e["actor_id"], e["actor_id"]),
                }
                for e in copier.programme_events
            ]
            trail += copier.fiches_copy(programme, ids, per_programme, first=1)
            events += copier.seal(programme, trail, labels)
            fiches += per_programme
    return fiches, events, len(numbers)


def _model_of(object_type: str, ids: dict):
    for model in ids:
        if model._meta.label_lower == object_type:
            return model
    return None
