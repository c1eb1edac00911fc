from django import forms

from .models import Indicator


class IndicatorForm(forms.ModelForm):
    class Meta:
        model = Indicator
        fields = ["kind", "label", "unit", "baseline", "target"]
        localized_fields = ["baseline", "target"]
