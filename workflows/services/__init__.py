"""The services: the only door through which Coordo's data changes.

Each service runs in one transaction: it locks the row, checks that it did not change after the
version the actor saw, checks the actor's role (memberships) and the rule, makes the change,
saves, writes the audit event and updates the tasks. A refused change raises ``Refused`` naming
its rule and leaves nothing behind. Pages, the import and the demo call the functions listed
here; each exposes the predicate the pages use to offer it (``Rule.allows``,
``step_refusal``/``offered`` for transitions).
"""

from .accounts import erase_member, member_data
from .actions import (
    COMMENT,
    EDIT,
    ENTER_ACTUAL,
    MEMBERS,
    OPINE,
    PROPOSE,
    add_budget_line,
    add_indicator,
    comment_action,
    create_action,
    fiche_snapshot,
    give_opinion,
    proposal_refusal,
    record_budget_actual,
    remove_budget_line,
    take_up,
    update_action,
    update_budget_line,
)
from .clsm import (
    KEEP_CLSM,
    add_observation_indicator,
    record_resource_session,
    record_training,
    set_observation_value,
    update_resource_session,
    update_training,
)
from .contracts import (
    AMENDMENT_FIELDS,
    PREPARE,
    cancel_agreement_signing,
    create_amendment,
    open_agreement_signing,
    prepare_evaluation,
    refuse,
    sign,
    update_amendment,
    write_evaluation,
)
from .directory import (
    KEEP_DIRECTORY,
    add_contact,
    add_organisation,
    coordinated_programmes,
    erase_contact,
    may_keep,
    organisation_refusal,
    renamable,
    set_partners,
    update_contact,
    update_organisation,
)
from .documents import (
    ATTACH,
    attach_document,
    document_owner,
    may_attach,
    owner_kind,
    remove_document,
)
from .evaluation import (
    MEASURE,
    REPORT_FIELDS,
    WRITE_REPORT,
    record_measurement,
    update_evaluation_report,
    write_evaluation_report,
)
from .funding import (
    PLAN_PAYMENT,
    RECEIVE_PAYMENT,
    REQUEST,
    WAIVE,
    add_tranche,
    create_funding_request,
    on_behalf,
    record_funding_waiver,
    record_tranche_receipt,
)
from .imports import IMPORT, ImportRefused, import_workbook
from .meetings import (
    add_agenda_item,
    apply_meeting_decisions,
    cancel_meeting,
    convenable,
    create_meeting,
    invited,
    may_animate,
    record_meeting,
    reschedule_meeting,
    validate_minutes,
    write_minutes,
)
from .participation import erase_expired_contacts, submit_resident_proposal
from .places import add_place, remove_place
from .programme import (
    IDENTITY_FIELDS,
    add_axis,
    add_member,
    add_objective,
    change_membership,
    create_programme,
    end_membership,
    invite_member,
    may_create_programme,
    may_set_up,
    move_in_tree,
    programme_creation_refusal,
    save_structure,
    set_retired,
    set_signatories,
)
from .runner import Offer, Refused, Rule, offered, roles_on, step_refusal, target
from .tasks import release_task, take_task
from .transitions import transition
