"""Reading a lifecycle: what the FSM transitions declared on a model say, for everyone else.

Each lifecycle of Coordo (fiche action, funding request, programme) is stated once, as
``viewflow.fsm`` transitions on its model. Their ``custom`` dictionary carries the rules that
are not the FSM's own:

- ``roles``: the roles of the object's programme that may run it (memberships);
- ``reason_required``: a comment is mandatory;
- ``preparer_excluded``: whoever submitted the current version may not run it;
- ``on_behalf``: roles that may record the decision for those who take it (the coordination
  recording a funder's decision, with the decision letter);
- ``setting_roles``: roles that may run it too where a setting of the programme says so
  (``{"leads_file_requests": {Role.ACTION_LEAD}}``);
- ``awaited`` (default true): the state waits for this decision — its task is offered to the
  transition's roles. ``False`` for a way out that may interrupt any stage (abandoning).
- ``automatic``: run by a service when something else happens (the last signature makes the
  contract enter into force), never offered as a button nor as a task.

Tasks, séance decisions, page buttons, labels, demo and test paths are all derived from here,
through viewflow's public API only (``TransitionMethod.get_transitions``, ``Transition``).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from functools import cache

from django.db import models
from viewflow.fsm import FSMField, Transition
from viewflow.fsm.base import TransitionMethod


@dataclass(frozen=True)
class Step:
    """One transition of a model from one source state."""

    name: str
    source: str
    targets: tuple[str, ...]
    label: object  # translatable
    roles: frozenset[str]
    reason_required: bool
    preparer_excluded: bool
    on_behalf: frozenset[str]
    setting_roles: tuple[tuple[str, frozenset[str]], ...]
    awaited: bool
    automatic: bool
    transition: Transition


def has_lifecycle(model: type[models.Model]) -> bool:
    return any(isinstance(f, FSMField) for f in model._meta.concrete_fields)


@cache
def state_field(model: type[models.Model]) -> FSMField:
    return next(f for f in model._meta.concrete_fields if isinstance(f, FSMField))


@cache
def steps(model: type[models.Model]) -> tuple[Step, ...]:
    """Every transition of the model from every source, in the order they are declared."""
    found = []
    for klass in reversed(model.__mro__):
        for name in vars(klass):
            method = getattr(model, name, None)
            if not isinstance(method, TransitionMethod):
                continue
            for t in method.get_transitions():
                custom = t.custom or {}
                found.append(
                    Step(
                        name=name,
                        source=t.source,
                        targets=tuple(t.declared_targets()),
                        label=t.label,
                        roles=frozenset(custom.get("roles", ())),
                        reason_required=bool(custom.get("reason_required")),
                        preparer_excluded=bool(custom.get("preparer_excluded")),
                        on_behalf=frozenset(custom.get("on_behalf", ())),
                        setting_roles=tuple(
                            (setting, frozenset(roles))
                            for setting, roles in custom.get("setting_roles", {}).items()
                        ),
                        awaited=custom.get("awaited", True) and not custom.get("automatic"),
                        automatic=bool(custom.get("automatic")),
                        transition=t,
                    )
                )
    return tuple(found)


@cache
def names(model: type[models.Model]) -> tuple[str, ...]:
    """The model's transitions, in declaration order."""
    return tuple(dict.fromkeys(s.name for s in steps(model)))


def label(model: type[models.Model], name: str):
    """The transition's label, whatever the state (lazy)."""
    return next(s.label for s in steps(model) if s.name == name)


def step(model: type[models.Model], name: str, source: str) -> Step | None:
    """The transition ``name`` from ``source``, or None if it does not leave that state."""
    return next((s for s in steps(model) if s.name == name and s.source == source), None)


def outgoing(model: type[models.Model], state: str) -> list[Step]:
    return [s for s in steps(model) if s.source == state]


def state_of(obj: models.Model) -> str:
    return getattr(obj, state_field(type(obj)).name)


def available(obj: models.Model) -> list[Step]:
    """The transitions that leave the object's current state (whoever may run them)."""
    return outgoing(type(obj), state_of(obj))


def awaited(model: type[models.Model], state: str) -> list[Step]:
    """The decisions ``state`` waits for: its task."""
    return [s for s in outgoing(model, state) if s.awaited]


@cache
def task_states(model: type[models.Model]) -> tuple[str, ...]:
    """The states that wait for a decision, in the order of the state field's choices."""
    return tuple(v for v, _ in state_field(model).choices if awaited(model, v))


def task_roles(model: type[models.Model], state: str) -> frozenset[str]:
    """Who takes the task of ``state``: the roles of the decisions it waits for."""
    return frozenset().union(*(s.roles for s in awaited(model, state)))


def decisions_of(model: type[models.Model], state: str, role: str) -> list[Step]:
    """What holders of ``role`` may decide about an object in ``state`` (e.g. in a séance)."""
    return [s for s in outgoing(model, state) if role in s.roles]


def states_awaiting(model: type[models.Model], role: str) -> list[str]:
    """The states whose task belongs to ``role`` (a séance's agenda)."""
    return [s for s in task_states(model) if role in task_roles(model, s)]


def path(model: type[models.Model], start: str, goal: str, via: tuple[str, ...] = ()) -> list[str]:
    """The shortest sequence of transitions from ``start`` to ``goal`` passing through the
    states ``via`` in order (breadth-first over the declared transitions)."""
    route: list[str] = []
    for a, b in zip((start, *via), (*via, goal), strict=True):
        route += _shortest(model, a, b)
    return route


def _shortest(model: type[models.Model], start: str, goal: str) -> list[str]:
    came_from: dict[str, tuple[str, str] | None] = {start: None}
    queue = deque([start])
    while queue:
        state = queue.popleft()
        if state == goal:
            route = []
            while came_from[state] is not None:
                state, name = came_from[state]
                route.append(name)
            return route[::-1]
        for s in outgoing(model, state):
            for target in s.targets:
                if target not in came_from:
                    came_from[target] = (state, s.name)
                    queue.append(target)
    raise ValueError(f"No path from {start} to {goal} in {model.__name__}'s lifecycle")
