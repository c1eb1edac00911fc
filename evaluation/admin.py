from django.contrib import admin

from projects.admin import ReadOnlyAdmin

from .models import EvaluationReport, Indicator, Measurement


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
