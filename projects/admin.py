from django.contrib import admin

from .models import (
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

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = ["name", "kind"]
    list_filter = ["kind"]
    search_fields = ["name"]


class AxisInline(admin.TabularInline):
    model = Axis
    extra = 0


@admin.register(Programme)
class ProgrammeAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "territory", "start_date", "end_date", "status"]
    list_filter = ["kind", "status"]
    search_fields = ["name", "territory"]
    readonly_fields = ["status"]  # changes through its lifecycle only
    filter_horizontal = ["signatories"]
    inlines = [AxisInline]


@admin.register(Axis)
class AxisAdmin(admin.ModelAdmin):
    list_display = ["programme", "number", "title"]
    list_filter = ["programme"]


@admin.register(Objective)
class ObjectiveAdmin(admin.ModelAdmin):
    list_display = ["title", "level", "axis"]
    list_filter = ["level", "axis__programme"]
    search_fields = ["title"]


@admin.register(WorkingGroup)
class WorkingGroupAdmin(admin.ModelAdmin):
    list_display = ["name", "programme"]
    list_filter = ["programme"]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
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
