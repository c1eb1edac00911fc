from django import forms
from django.utils.translation import gettext_lazy as _

from projects.forms import AmountField

from .models import EvaluationReport, Indicator, Measurement


class IndicatorForm(forms.ModelForm):
    class Meta:
        model = Indicator
        fields = ["kind", "label", "unit", "baseline", "target", "collection_method", "frequency"]
        field_classes = {"baseline": AmountField, "target": AmountField}


class MeasurementForm(forms.ModelForm):
    """One value of an indicator (French decimals: « 12,5 »)."""

    class Meta:
        model = Measurement
        fields = ["date", "period", "value", "source", "comment"]
        field_classes = {"value": AmountField}
        labels = {
            "date": _("Date de la mesure (ou fin de la période)"),
            "period": _("Période couverte (facultatif)"),
        }
        widgets = {
            "date": forms.DateInput(attrs={"type": "date"}),
            "period": forms.TextInput(attrs={"placeholder": _("ex. : 1er semestre 2026")}),
            "comment": forms.Textarea(attrs={"rows": 2}),
        }


class EvaluationReportForm(forms.ModelForm):
    class Meta:
        model = EvaluationReport
        fields = ["achievements", "difficulties", "participation", "recommendations"]
        widgets = {
            name: forms.Textarea(attrs={"rows": 6})
            for name in ["achievements", "difficulties", "participation", "recommendations"]
        }
