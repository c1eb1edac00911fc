"""The Django admin: technical administration, not a back door.

Nothing of Coordo's business data is edited here. Records that change through Coordo's
lifecycles and services (fiches, funding, evaluation, the audit trail) are read-only, and so is
a programme's set-up (the programme, its axes and objectives, working groups, organisations and
memberships): the coordination makes those changes in Coordo's own pages (« Mise en place du
dispositif », « Nouveau dispositif »), through the audited services. A superuser can still look.
"""

from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.shortcuts import redirect
from django.utils.translation import gettext, gettext_lazy

from audit.models import AuditEvent
from evaluation.models import EvaluationReport, Indicator, Measurement
from funding.models import BudgetLine, FundingRequest, Tranche
from projects.models import (
    Action,
    ActionSnapshot,
    AgendaItem,
    Axis,
    Meeting,
    Membership,
    Objective,
    Organisation,
    Programme,
    WorkingGroup,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    """For records that only change through Coordo's services (which audit them)."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class SetUpAdmin(ReadOnlyAdmin):
    """A programme's set-up: shown here, changed in Coordo's pages (audited there)."""

    NOTE = gettext_lazy(
        "Lecture seule : la mise en place d'un dispositif (identité, axes et objectifs, groupes "
        "de travail, membres, signataires) se fait dans les pages de Coordo, par sa "
        "coordination ; chaque changement y est inscrit au journal d'audit."
    )

    def changelist_view(self, request, extra_context=None):
        return super().changelist_view(request, {"subtitle": self.NOTE, **(extra_context or {})})

    def change_view(self, request, object_id, form_url="", extra_context=None):
        return super().change_view(
            request, object_id, form_url, {"subtitle": self.NOTE, **(extra_context or {})}
        )


@admin.register(Organisation)
class OrganisationAdmin(SetUpAdmin):
    list_display = ["name", "kind"]
    list_filter = ["kind"]
    search_fields = ["name"]


@admin.register(Programme)
class ProgrammeAdmin(SetUpAdmin):
    list_display = ["name", "kind", "territory", "start_date", "end_date", "status"]
    list_filter = ["kind", "status"]
    search_fields = ["name", "territory"]
    readonly_fields = ["status"]  # changes through its lifecycle only
    filter_horizontal = ["signatories"]


@admin.register(Axis)
class AxisAdmin(SetUpAdmin):
    list_display = ["programme", "number", "title"]
    list_filter = ["programme"]


@admin.register(Objective)
class ObjectiveAdmin(SetUpAdmin):
    list_display = ["title", "level", "axis"]
    list_filter = ["level", "axis__programme"]
    search_fields = ["title"]


@admin.register(WorkingGroup)
class WorkingGroupAdmin(SetUpAdmin):
    list_display = ["name", "programme"]
    list_filter = ["programme"]


@admin.register(Membership)
class MembershipAdmin(SetUpAdmin):
    list_display = ["user", "programme", "role", "organisation", "working_group", "is_active"]
    list_filter = ["programme", "role", "is_active"]
    search_fields = ["user__username", "user__last_name", "organisation__name"]
    autocomplete_fields = ["user", "organisation"]


@admin.register(Action)
class ActionAdmin(ReadOnlyAdmin):
    """Fiches change through the application (co-construction and transitions are audited)."""

    list_display = ["title", "programme", "state", "lead_organisation", "planned_start"]
    list_filter = ["programme", "state"]
    search_fields = ["title"]
    list_select_related = ["programme", "lead_organisation"]


@admin.register(ActionSnapshot)
class ActionSnapshotAdmin(ReadOnlyAdmin):
    list_display = ["action", "version", "submitted_at", "submitted_by"]
    list_select_related = ["action", "submitted_by"]


class AgendaItemInline(admin.TabularInline):
    model = AgendaItem
    extra = 0
    can_delete = False
    readonly_fields = ["position", "action", "state_at_agenda", "decision", "comment"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Meeting)
class MeetingAdmin(ReadOnlyAdmin):
    list_display = ["programme", "body", "date", "place", "chair", "applied_at"]
    list_filter = ["programme", "body"]
    inlines = [AgendaItemInline]


@admin.register(BudgetLine)
class BudgetLineAdmin(ReadOnlyAdmin):
    list_display = ["action", "year", "category", "planned", "actual"]
    list_select_related = ["action"]


@admin.register(FundingRequest)
class FundingRequestAdmin(ReadOnlyAdmin):
    list_display = [
        "action",
        "funder",
        "scheme",
        "year",
        "requested_amount",
        "granted_amount",
        "state",
    ]
    list_filter = ["state", "year", "funder"]
    list_select_related = ["action", "funder"]


@admin.register(Tranche)
class TrancheAdmin(ReadOnlyAdmin):
    list_display = ["request", "label", "expected_date", "expected_amount", "received_date"]
    list_select_related = ["request", "request__action", "request__funder"]


@admin.register(Indicator)
class IndicatorAdmin(ReadOnlyAdmin):
    list_display = ["label", "kind", "action", "target"]
    list_select_related = ["action"]


@admin.register(Measurement)
class MeasurementAdmin(ReadOnlyAdmin):
    list_display = ["indicator", "date", "value"]
    list_select_related = ["indicator"]


@admin.register(EvaluationReport)
class EvaluationReportAdmin(ReadOnlyAdmin):
    list_display = ["action", "written_by", "written_at"]
    list_select_related = ["action", "written_by"]


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    """The audit trail is append-only: read-only here, and the database refuses changes."""

    list_display = [
        "programme",
        "seq",
        "at",
        "actor_label",
        "event",
        "object_repr",
        "from_state",
        "to_state",
    ]
    list_filter = ["programme", "event"]
    search_fields = ["object_repr", "actor_label", "comment"]
    list_select_related = ["programme"]


class CoordoUserAdmin(UserAdmin):
    """Django's accounts admin, with a member's data (RGPD) and the erasure of their account:
    both done by Coordo's pages (the erasure through the services, in the audit trail)."""

    actions = ["export_data", "erase_account"]

    @admin.action(description=gettext_lazy("Exporter ses données (RGPD, un compte)"))
    def export_data(self, request, queryset):
        return self._one(request, queryset, "coordo:account-data")

    @admin.action(description=gettext_lazy("Effacer le compte (RGPD, un compte)"))
    def erase_account(self, request, queryset):
        return self._one(request, queryset, "coordo:account-erase")

    def _one(self, request, queryset, name):
        if queryset.count() != 1:
            self.message_user(
                request, gettext("Choisissez un seul compte à la fois."), level=messages.WARNING
            )
            return None
        return redirect(name, user_pk=queryset.get().pk)


admin.site.unregister(get_user_model())
admin.site.register(get_user_model(), CoordoUserAdmin)
