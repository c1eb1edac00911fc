"""Coordo's pages as one application of viewflow's Material frontend (drawer, toolbar,
shipped fonts and icons). The pages are plain Django views; Turbo navigation is switched off
inside their content so that forms behave as forms."""

from django.urls import path, register_converter
from viewflow.urls import Application

from notifications import outbox

from .views import accounts as account_views
from .views import (
    actions,
    audit,
    contract,
    evaluation,
    funding,
    home,
    imports,
    meetings,
    proposals,
    reports,
)
from .views import clsm as clsm_views
from .views import diagnostic as diagnostic_views
from .views import directory as directory_views
from .views import documents as document_views
from .views import notifications as notification_views
from .views import places as place_views
from .views import programme as programme_views
from .views import region as region_views
from .views import setup as setup_views
from .views import summary as summary_views
from .views import tokens as token_views
from .views import two_factor as two_factor_views


class IdConverter:
    """An object's number in a URL: digits a database id can hold (longer ones are a 404, not
    an integer overflow in the database driver)."""

    regex = "[0-9]{1,18}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: int) -> str:
        return str(value)


register_converter(IdConverter, "id")


class CoordoApp(Application):
    title = "Coordo"
    app_name = "coordo"
    icon = "health_and_safety"
    menu_template_name = "coordo/menu.html"

    home_path = path("", home.home, name="home")
    # The territory's places and the CLSM's own work.
    places_path = path("dispositifs/<id:pk>/territoire/", place_views.places, name="places")
    place_remove_path = path(
        "dispositifs/<id:pk>/territoire/<id:place>/retirer/",
        place_views.place_remove,
        name="place-remove",
    )
    clsm_path = path("dispositifs/<id:pk>/clsm/", clsm_views.clsm_home, name="clsm")
    clsm_session_add_path = path(
        "dispositifs/<id:pk>/clsm/cellule/nouvelle/",
        clsm_views.resource_session,
        name="clsm-session-add",
    )
    clsm_session_edit_path = path(
        "dispositifs/<id:pk>/clsm/cellule/<id:item>/",
        clsm_views.resource_session,
        name="clsm-session-edit",
    )
    clsm_training_add_path = path(
        "dispositifs/<id:pk>/clsm/formations/nouvelle/",
        clsm_views.training,
        name="clsm-training-add",
    )
    clsm_training_edit_path = path(
        "dispositifs/<id:pk>/clsm/formations/<id:item>/",
        clsm_views.training,
        name="clsm-training-edit",
    )
    clsm_indicator_add_path = path(
        "dispositifs/<id:pk>/clsm/observation/nouvel-indicateur/",
        clsm_views.indicator_add,
        name="clsm-indicator-add",
    )
    clsm_value_path = path(
        "dispositifs/<id:pk>/clsm/observation/<id:item>/valeur/",
        clsm_views.observation_value,
        name="clsm-value",
    )
    actions_path = path("actions/", actions.action_list, name="actions")
    programme_path = path("dispositifs/<id:pk>/", actions.programme_detail, name="programme")
    programme_transition_path = path(
        "dispositifs/<id:pk>/transitions/<str:name>/",
        programme_views.programme_transition,
        name="programme-transition",
    )
    action_create_path = path(
        "dispositifs/<id:pk>/proposer/", actions.action_create, name="action-create"
    )
    action_path = path("actions/<id:pk>/", actions.action_detail, name="action")
    action_edit_path = path("actions/<id:pk>/modifier/", actions.action_edit, name="action-edit")
    action_waiver_path = path(
        "actions/<id:pk>/derogation/", funding.action_waiver, name="action-waiver"
    )
    action_comment_path = path(
        "actions/<id:pk>/commenter/", actions.action_comment, name="action-comment"
    )
    action_versions_path = path(
        "actions/<id:pk>/versions/", actions.snapshot_diff, name="action-versions"
    )
    action_add_path = path(
        "actions/<id:pk>/ajouter/<str:part>/", actions.action_add_part, name="action-add"
    )
    budget_line_path = path(
        "actions/<id:pk>/budget/<id:line>/<str:what>/",
        actions.budget_line_change,
        name="budget-line",
    )
    meetings_path = path("dispositifs/<id:pk>/seances/", meetings.meeting_list, name="meetings")
    meeting_path = path("seances/<id:pk>/", meetings.meeting_detail, name="meeting")
    meeting_minutes_path = path(
        "seances/<id:pk>/compte-rendu/", meetings.meeting_minutes, name="meeting-minutes"
    )
    inbox_path = path("taches/", home.inbox, name="inbox")
    funding_path = path("dispositifs/<id:pk>/financements/", funding.funding, name="funding")
    funding_create_path = path(
        "actions/<id:pk>/financements/", funding.funding_request_create, name="funding-create"
    )
    funding_request_path = path(
        "financements/<id:pk>/", funding.funding_request_detail, name="funding-request"
    )
    funding_transition_path = path(
        "financements/<id:pk>/transitions/<str:name>/",
        funding.funding_request_transition,
        name="funding-transition",
    )
    decision_letter_path = path(
        "financements/<id:pk>/courrier-de-decision/",
        funding.decision_letter,
        name="decision-letter",
    )
    tranche_add_path = path(
        "financements/<id:pk>/versements/", funding.tranche_add, name="tranche-add"
    )
    tranche_receive_path = path(
        "versements/<id:pk>/reception/", funding.tranche_receive, name="tranche-receive"
    )
    funding_export_path = path(
        "dispositifs/<id:pk>/financements/classeur.xlsx",
        funding.funding_export,
        name="funding-export",
    )
    task_take_path = path("taches/<id:pk>/prendre/", home.task_take, name="task-take")
    task_release_path = path("taches/<id:pk>/liberer/", home.task_release, name="task-release")
    action_transition_path = path(
        "actions/<id:pk>/transitions/<str:name>/",
        actions.action_transition,
        name="action-transition",
    )
    action_opinion_path = path(
        "actions/<id:pk>/avis/", actions.action_opinion, name="action-opinion"
    )
    programme_settings_path = path(
        "dispositifs/<id:pk>/reglages/",
        programme_views.programme_settings,
        name="programme-settings",
    )
    meeting_agenda_path = path(
        "seances/<id:pk>/ordre-du-jour/", meetings.agenda_add, name="meeting-agenda-add"
    )
    meeting_minutes_write_path = path(
        "seances/<id:pk>/compte-rendu/rediger/",
        meetings.minutes_write,
        name="meeting-minutes-write",
    )
    meeting_minutes_validate_path = path(
        "seances/<id:pk>/compte-rendu/valider/",
        meetings.minutes_validate,
        name="meeting-minutes-validate",
    )
    # Evaluation: measurements from the fiche, the evaluation report (evaluation.py).
    measurement_add_path = path(
        "actions/<id:pk>/indicateurs/<id:indicator_pk>/mesures/",
        evaluation.measurement_add,
        name="measurement-add",
    )
    evaluation_report_path = path(
        "actions/<id:pk>/evaluation/rapport/",
        evaluation.evaluation_report,
        name="evaluation-report",
    )
    # The audit-trail export for the ARS (audit.py).
    audit_export_path = path(
        "dispositifs/<id:pk>/journal-audit/", audit.audit_export_page, name="audit-export"
    )
    audit_export_xlsx_path = path(
        "dispositifs/<id:pk>/journal-audit/journal.xlsx",
        audit.audit_export_download,
        {"extension": "xlsx"},
        name="audit-export-xlsx",
    )
    audit_export_csv_path = path(
        "dispositifs/<id:pk>/journal-audit/journal.csv",
        audit.audit_export_download,
        {"extension": "csv"},
        name="audit-export-csv",
    )
    # The dashboard and the annual report of a programme (reports.py).
    dashboard_path = path(
        "dispositifs/<id:pk>/tableau-de-bord/", reports.dashboard, name="dashboard"
    )
    annual_report_choose_path = path(
        "dispositifs/<id:pk>/rapport/", reports.annual_report_choose, name="annual-reports"
    )
    annual_report_path = path(
        "dispositifs/<id:pk>/rapport/<id:year>/",
        reports.annual_report_page,
        name="annual-report",
    )
    annual_report_xlsx_path = path(
        "dispositifs/<id:pk>/rapport/<id:year>/rapport.xlsx",
        reports.annual_report_xlsx,
        name="annual-report-xlsx",
    )
    # The contract: signatures, amendments, evaluations (contract.py).
    signing_path = path("signatures/<id:pk>/", contract.signing_detail, name="signing")
    signature_sign_path = path(
        "signatures/signature/<id:pk>/signer/", contract.signature_sign, name="signature-sign"
    )
    signature_refuse_path = path(
        "signatures/signature/<id:pk>/refuser/", contract.signature_refuse, name="signature-refuse"
    )
    signed_copy_path = path(
        "signatures/signature/<id:pk>/copie/", contract.signed_copy, name="signed-copy"
    )
    amendments_path = path(
        "dispositifs/<id:pk>/avenants/", contract.amendment_list, name="amendments"
    )
    amendment_path = path("avenants/<id:pk>/", contract.amendment_detail, name="amendment")
    amendment_transition_path = path(
        "avenants/<id:pk>/transitions/<str:name>/",
        contract.amendment_transition,
        name="amendment-transition",
    )
    contract_evaluation_path = path(
        "dispositifs/<id:pk>/evaluation-du-contrat/<str:kind>/",
        contract.evaluation_page,
        name="contract-evaluation",
    )
    evaluation_transition_path = path(
        "evaluations-du-contrat/<id:pk>/transitions/<str:name>/",
        contract.evaluation_transition,
        name="evaluation-transition",
    )
    # A person's API tokens (tokens.py).
    api_tokens_path = path("jetons/", token_views.token_list, name="api-tokens")
    api_token_revoke_path = path(
        "jetons/<id:pk>/revoquer/", token_views.token_revoke, name="api-token-revoke"
    )
    # A person's notifications and how they reach them (notifications.py).
    notifications_path = path(
        "notifications/", notification_views.notification_list, name="notifications"
    )
    meeting_reschedule_path = path(
        "seances/<id:pk>/deplacer/", meetings.reschedule, name="meeting-reschedule"
    )
    meeting_cancel_path = path("seances/<id:pk>/annuler/", meetings.cancel, name="meeting-cancel")
    # Import of existing fiches and funding from a workbook (imports.py).
    import_path = path("dispositifs/<id:pk>/import/", imports.import_page, name="import")
    import_template_path = path(
        "dispositifs/<id:pk>/import/modele.xlsx",
        imports.import_template,
        name="import-template",
    )
    # Residents' proposals: the coordination's moderation queue (proposals.py).
    resident_proposals_path = path(
        "dispositifs/<id:pk>/propositions-habitants/",
        proposals.resident_proposals,
        name="resident-proposals",
    )
    resident_proposal_moderate_path = path(
        "propositions-habitants/<id:pk>/<str:name>/",
        proposals.moderate,
        name="resident-proposal-moderate",
    )
    # The note de synthèse for elected officials, one printable page (summary.py).
    programme_summary_path = path(
        "dispositifs/<id:pk>/note-de-synthese/",
        summary_views.summary_page,
        name="programme-summary",
    )
    # The territory's view across a person's programmes, page and workbook (region.py).
    region_path = path("territoire/", region_views.region_page, name="region")
    region_xlsx_path = path(
        "territoire/territoire.xlsx", region_views.region_xlsx, name="region-xlsx"
    )
    # Programme set-up (setup.py).
    programme_create_path = path(
        "dispositifs/nouveau/", setup_views.programme_create, name="programme-create"
    )
    setup_path = path("dispositifs/<id:pk>/organisation/", setup_views.setup_hub, name="setup")
    setup_identity_path = path(
        "dispositifs/<id:pk>/organisation/identite/",
        setup_views.setup_identity,
        name="setup-identity",
    )
    setup_axes_path = path(
        "dispositifs/<id:pk>/organisation/axes/", setup_views.setup_axes, name="setup-axes"
    )
    setup_axis_path = path(
        "dispositifs/<id:pk>/organisation/axes/<id:item>/<str:op>/",
        setup_views.setup_axis,
        name="setup-axis",
    )
    setup_objective_path = path(
        "dispositifs/<id:pk>/organisation/objectifs/<id:item>/<str:op>/",
        setup_views.setup_objective,
        name="setup-objective",
    )
    setup_groups_path = path(
        "dispositifs/<id:pk>/organisation/groupes/", setup_views.setup_groups, name="setup-groups"
    )
    setup_group_path = path(
        "dispositifs/<id:pk>/organisation/groupes/<id:item>/<str:op>/",
        setup_views.setup_group,
        name="setup-group",
    )
    setup_members_path = path(
        "dispositifs/<id:pk>/organisation/membres/",
        setup_views.setup_members,
        name="setup-members",
    )
    setup_member_path = path(
        "dispositifs/<id:pk>/organisation/membres/<id:item>/",
        setup_views.setup_member,
        name="setup-member",
    )
    setup_member_end_path = path(
        "dispositifs/<id:pk>/organisation/membres/<id:item>/fin/",
        setup_views.setup_member_end,
        name="setup-member-end",
    )
    setup_signatories_path = path(
        "dispositifs/<id:pk>/organisation/signataires/",
        setup_views.setup_signatories,
        name="setup-signatories",
    )
    setup_organisation_add_path = path(
        "dispositifs/<id:pk>/organisation/signataires/organisation/",
        setup_views.setup_organisation_add,
        name="setup-organisation-add",
    )
    # Partner directory (directory.py).
    directory_path = path(
        "dispositifs/<id:pk>/partenaires/", directory_views.directory_page, name="directory"
    )
    directory_export_path = path(
        "dispositifs/<id:pk>/partenaires/annuaire.xlsx",
        directory_views.directory_export,
        name="directory-export",
    )
    directory_organisation_add_path = path(
        "dispositifs/<id:pk>/partenaires/ajouter/",
        directory_views.organisation_add,
        name="directory-organisation-add",
    )
    directory_organisation_edit_path = path(
        "dispositifs/<id:pk>/partenaires/<id:organisation_pk>/modifier/",
        directory_views.organisation_edit,
        name="directory-organisation-edit",
    )
    directory_contact_add_path = path(
        "dispositifs/<id:pk>/partenaires/<id:organisation_pk>/contacts/ajouter/",
        directory_views.contact_add,
        name="directory-contact-add",
    )
    directory_contact_edit_path = path(
        "dispositifs/<id:pk>/contacts/<id:contact_pk>/modifier/",
        directory_views.contact_edit,
        name="directory-contact-edit",
    )
    directory_contact_data_path = path(
        "dispositifs/<id:pk>/contacts/<id:contact_pk>/donnees.json",
        directory_views.contact_data,
        name="directory-contact-data",
    )
    directory_contact_erase_path = path(
        "dispositifs/<id:pk>/contacts/<id:contact_pk>/effacer/",
        directory_views.contact_erase,
        name="directory-contact-erase",
    )
    action_partners_path = path(
        "actions/<id:pk>/partenaires/", directory_views.action_partners, name="action-partners"
    )
    # The diagnostic local de santé and the other schemes (diagnostic.py).
    diagnostic_path = path(
        "dispositifs/<id:pk>/diagnostic/", diagnostic_views.diagnostic_page, name="diagnostic"
    )
    diagnostic_edit_path = path(
        "dispositifs/<id:pk>/diagnostic/modifier/",
        diagnostic_views.diagnostic_edit,
        name="diagnostic-edit",
    )
    finding_add_path = path(
        "dispositifs/<id:pk>/diagnostic/constats/ajouter/",
        diagnostic_views.finding_add,
        name="finding-add",
    )
    finding_edit_path = path(
        "dispositifs/<id:pk>/diagnostic/constats/<id:finding_pk>/modifier/",
        diagnostic_views.finding_edit,
        name="finding-edit",
    )
    scheme_add_path = path(
        "dispositifs/<id:pk>/diagnostic/demarches/ajouter/",
        diagnostic_views.scheme_add,
        name="scheme-add",
    )
    scheme_edit_path = path(
        "dispositifs/<id:pk>/diagnostic/demarches/<id:scheme_pk>/modifier/",
        diagnostic_views.scheme_edit,
        name="scheme-edit",
    )
    scheme_objective_add_path = path(
        "dispositifs/<id:pk>/diagnostic/demarches/<id:scheme_pk>/objectifs/",
        diagnostic_views.scheme_objective_add,
        name="scheme-objective-add",
    )
    programme_link_add_path = path(
        "dispositifs/<id:pk>/diagnostic/dispositif-lie/",
        diagnostic_views.programme_link_add,
        name="programme-link-add",
    )
    diagnostic_remove_path = path(
        "dispositifs/<id:pk>/diagnostic/retirer/<str:kind>/<id:item>/",
        diagnostic_views.item_remove,
        name="diagnostic-remove",
    )
    fiche_links_path = path(
        "actions/<id:pk>/besoins-et-demarches/", diagnostic_views.fiche_links, name="fiche-links"
    )
    security_path = path("securite/", two_factor_views.security_page, name="security")
    # A member's personal data (accounts.py).
    my_data_path = path("mes-donnees.json", account_views.my_data, name="my-data")
    account_data_path = path(
        "comptes/<id:user_pk>/donnees.json", account_views.account_data, name="account-data"
    )
    account_erase_path = path(
        "comptes/<id:user_pk>/effacer/", account_views.account_erase, name="account-erase"
    )
    # Documents (documents.py).
    document_attach_path = path(
        "documents/<slug:slug>/<id:pk>/joindre/",
        document_views.document_attach,
        name="document-attach",
    )
    document_path = path("documents/<id:pk>/", document_views.document_download, name="document")
    document_remove_path = path(
        "documents/<id:pk>/retirer/", document_views.document_remove, name="document-remove"
    )


def menu(request) -> dict:
    """The drawer's links (context processor)."""
    if not request.user.is_authenticated:
        return {}
    from django.urls import reverse
    from django.utils.translation import gettext as _

    from projects.permissions import visible_programmes

    items = [
        (reverse("coordo:home"), "home", _("Accueil")),
        (reverse("coordo:inbox"), "assignment", _("Mes tâches")),
        (reverse("coordo:notifications"), "notifications", _("Notifications")),
        (reverse("coordo:api-tokens"), "key", _("Jetons d'API")),
        (reverse("coordo:security"), "lock", _("Sécurité du compte")),
        (reverse("coordo:actions"), "list_alt", _("Toutes les fiches actions")),
    ]
    programmes = list(visible_programmes(request.user).order_by("name").only("pk", "name"))
    if len(programmes) >= 2:  # the territory's view: for members of several programmes
        items.append((reverse("coordo:region"), "map", _("Vue du territoire")))
    for programme in programmes:
        items.append((reverse("coordo:programme", args=[programme.pk]), "folder", programme.name))
        items.append((reverse("coordo:meetings", args=[programme.pk]), "groups", _("Séances")))
        items.append(
            (reverse("coordo:dashboard", args=[programme.pk]), "insights", _("Tableau de bord"))
        )
    return {"coordo_menu": items, "unread_notifications": outbox.unread(request.user)}
