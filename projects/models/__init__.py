"""Programmes (CLS / CLSM), their structure, their partners, memberships and actions.

The lifecycles of the programme and of the action ("fiche action") are stated here, once, as
protected FSM transitions carrying their roles and rules (``projects.lifecycle`` reads them for
everyone else). Applying a transition — locking, checking, saving and auditing — is the job of
``workflows.services``; nothing else changes a state.
"""

from .action import (
    ACTIVE_STATES,
    EDITABLE_STATES,
    NOT_CARRIED_OUT,
    Action,
    ActionSnapshot,
    ActionState,
    MoneyField,
    Origin,
    ParticipationLevel,
    money,
)
from .meeting import AgendaItem, Meeting, decision_choices
from .opinion import Opinion
from .place import (
    Place,
    action_reduces_inequalities,
    places_target_qpv,
    reduces_inequalities,
    targets_qpv,
)
from .programme import (
    Axis,
    Membership,
    MembershipQuerySet,
    Objective,
    Organisation,
    OrganisationKind,
    Programme,
    Role,
    WorkingGroup,
)
from .proposal import ResidentProposal
