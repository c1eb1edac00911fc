from django.contrib import admin

from projects.admin import ReadOnlyAdmin

from .models import AuditEvent


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
