"""What Coordo relies on in viewflow, stated where an upgrade will break it loudly.

Coordo uses viewflow's public API only (docs/architecture.md). viewflow is pinned to one
version; before moving the pin, this file says what to check again.
"""

import inspect
from importlib.metadata import version

from viewflow.fsm import Transition
from viewflow.fsm.base import TransitionMethod
from viewflow.workflow.activation import Activation
from viewflow.workflow.base import Flow

from projects.models import Action
from workflows import flows


def test_the_pinned_version():
    assert version("django-viewflow") == "2.4.0"


def test_the_fsm_is_read_through_its_public_api():
    method = Action.approve
    assert isinstance(method, TransitionMethod)
    (transition,) = method.get_transitions()
    assert isinstance(transition, Transition)
    assert transition.source == "copil_review"
    assert transition.declared_targets() == ["validated"]
    assert transition.custom["roles"] and str(transition.label) == "Valider"


def test_the_processes_are_driven_through_its_public_api():
    for name in ("assign", "reassign", "unassign", "start", "execute", "cancel"):
        assert callable(getattr(Activation, name, None)) or hasattr(
            flows.ActionFlow.instance.node("draft").activation_class, name
        ), name
    assert "process" in inspect.signature(Flow.cancel).parameters
    assert callable(Flow.lock)
    assert callable(flows.ActionFlow.start.run)
