from django import forms

from .models import BudgetLine


class BudgetLineForm(forms.ModelForm):
    class Meta:
        model = BudgetLine
        fields = ["year", "category", "planned"]
        localized_fields = ["planned"]
