from django import forms
from django.utils.translation import gettext_lazy as _

from projects.forms import AmountField

from .models import BudgetLine, FundingRequest, Tranche


class BudgetLineForm(forms.ModelForm):
    class Meta:
        model = BudgetLine
        fields = ["year", "category", "planned"]
        field_classes = {"planned": AmountField}


class FundingRequestForm(forms.ModelForm):
    class Meta:
        model = FundingRequest
        fields = ["funder", "scheme", "year", "requested_amount"]
        field_classes = {"requested_amount": AmountField}


class RefusalForm(forms.Form):
    """The funder's refusal, or the coordinator's record of it."""

    decision_date = forms.DateField(
        label=_("Date de décision"), widget=forms.DateInput(attrs={"type": "date"})
    )
    reference = forms.CharField(label=_("Référence de la décision"), required=False)
    decision_letter = forms.FileField(
        label=_("Courrier de décision (obligatoire si la coordination saisit pour le financeur)"),
        required=False,
    )
    comment = forms.CharField(
        label=_("Motif / commentaire"), widget=forms.Textarea(attrs={"rows": 3}), required=False
    )


class DecisionForm(RefusalForm):
    """The funder's grant (whole or partial), or the coordinator's record of it."""

    amount = AmountField(label=_("Montant accordé"), min_value=0, decimal_places=2)
    confirm_over_request = forms.BooleanField(
        label=_("Je confirme un montant supérieur au montant demandé"), required=False
    )
    field_order = ["amount", "decision_date", "reference", "confirm_over_request"]


class AgreementForm(forms.Form):
    reference = forms.CharField(label=_("Référence de la convention"))
    date = forms.DateField(
        label=_("Date de la convention"), widget=forms.DateInput(attrs={"type": "date"})
    )


class TrancheForm(forms.ModelForm):
    class Meta:
        model = Tranche
        fields = ["label", "expected_date", "expected_amount", "supporting_documents"]
        field_classes = {"expected_amount": AmountField}
        widgets = {
            "expected_date": forms.DateInput(attrs={"type": "date"}),
            "supporting_documents": forms.Textarea(attrs={"rows": 2}),
        }


class ReceiptForm(forms.Form):
    received_date = forms.DateField(
        label=_("Date de réception"), widget=forms.DateInput(attrs={"type": "date"})
    )
    received_amount = AmountField(label=_("Montant reçu"), min_value=0, decimal_places=2)
