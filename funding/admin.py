from django.contrib import admin

from projects.admin import ReadOnlyAdmin

from .models import BudgetLine, FundingRequest, Tranche


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
