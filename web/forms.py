"""The forms of the pages: what people type, parsed as they type it (« 12 500,50 € », French
dates). They validate input — every date within the years Coordo accepts, every text within
its column — so that bad input is a message on the form, never a server error; the rules of
Coordo are checked by the services."""

import re

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from evaluation.models import EvaluationReport, Indicator, Measurement
from funding.models import BudgetLine, FundingRequest, Tranche
from projects.calendar import check_date
from projects.models import Action, Meeting, Objective, Organisation, WorkingGroup


class AmountField(forms.DecimalField):
    """A decimal as people type or copy it from a page: « 12 500,50 € », « 12500,5 » (French
    decimal comma; spaces of any kind, including the non-breaking ones of displayed amounts,
    and the euro sign are ignored)."""

    def __init__(self, **kwargs):
        kwargs["localize"] = True
        super().__init__(**kwargs)

    def to_python(self, value):
        if isinstance(value, str):
            value = re.sub(r"[\s€]", "", value)
        return super().to_python(value)


class _BoundedDates:
    """Every date field of the form refuses a date outside the years Coordo accepts (a year 1
    or 9999 would otherwise overflow date arithmetic further on)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            if isinstance(field, forms.DateField | forms.DateTimeField):
                field.validators.append(check_date)


class Form(_BoundedDates, forms.Form):
    pass


class ModelForm(_BoundedDates, forms.ModelForm):
    pass


class FicheForm(ModelForm):
    """The fiche action as the coordinator and the working group write it."""

    class Meta:
        model = Action
        fields = list(Action.FICHE_FIELDS)
        field_classes = {"own_funds": AmountField}  # "1 500,50" as French users type it
        widgets = {
            "planned_start": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "planned_end": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "context": forms.Textarea(attrs={"rows": 4}),
            "target_public": forms.Textarea(attrs={"rows": 2}),
        }
        help_texts = {
            "context": _(
                "Ne saisissez jamais de données nominatives de patients ou d'usagers : "
                "Coordo n'est pas un hébergement de données de santé (HDS)."
            ),
        }

    def __init__(self, *args, programme, **kwargs):
        super().__init__(*args, **kwargs)
        self.instance.programme = programme
        self.fields["objective"].queryset = Objective.objects.filter(
            axis__programme=programme
        ).select_related("axis")
        self.fields["working_group"].queryset = WorkingGroup.objects.filter(programme=programme)
        self.fields["lead_organisation"].queryset = Organisation.objects.all()

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("planned_start"), cleaned.get("planned_end")
        if start and end and end < start:
            self.add_error("planned_end", gettext("La fin prévue doit suivre le début prévu."))
        return cleaned


class MeetingForm(ModelForm):
    class Meta:
        model = Meeting
        fields = ["body", "date", "place"]
        widgets = {"date": forms.DateTimeInput(attrs={"type": "datetime-local"})}


# --- funding ---------------------------------------------------------------------------


class BudgetLineForm(ModelForm):
    class Meta:
        model = BudgetLine
        fields = ["year", "category", "planned"]
        field_classes = {"planned": AmountField}


class FundingRequestForm(ModelForm):
    class Meta:
        model = FundingRequest
        fields = ["funder", "scheme", "year", "requested_amount"]
        field_classes = {"requested_amount": AmountField}


class RefusalForm(Form):
    """The funder's refusal, or the coordinator's record of it."""

    decision_date = forms.DateField(
        label=_("Date de décision"), widget=forms.DateInput(attrs={"type": "date"})
    )
    reference = forms.CharField(
        label=_("Référence de la décision"),
        required=False,
        max_length=FundingRequest._meta.get_field("decision_reference").max_length,
    )
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


class AgreementForm(Form):
    reference = forms.CharField(
        label=_("Référence de la convention"),
        max_length=FundingRequest._meta.get_field("agreement_reference").max_length,
    )
    date = forms.DateField(
        label=_("Date de la convention"), widget=forms.DateInput(attrs={"type": "date"})
    )


class TrancheForm(ModelForm):
    class Meta:
        model = Tranche
        fields = ["label", "expected_date", "expected_amount", "supporting_documents"]
        field_classes = {"expected_amount": AmountField}
        widgets = {
            "expected_date": forms.DateInput(attrs={"type": "date"}),
            "supporting_documents": forms.Textarea(attrs={"rows": 2}),
        }


class ReceiptForm(Form):
    received_date = forms.DateField(
        label=_("Date de réception"), widget=forms.DateInput(attrs={"type": "date"})
    )
    received_amount = AmountField(label=_("Montant reçu"), min_value=0, decimal_places=2)


# --- evaluation ------------------------------------------------------------------------


class IndicatorForm(ModelForm):
    class Meta:
        model = Indicator
        fields = ["kind", "label", "unit", "baseline", "target", "collection_method", "frequency"]
        field_classes = {"baseline": AmountField, "target": AmountField}


class MeasurementForm(ModelForm):
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


class EvaluationReportForm(ModelForm):
    class Meta:
        model = EvaluationReport
        fields = ["achievements", "difficulties", "participation", "recommendations"]
        widgets = {
            name: forms.Textarea(attrs={"rows": 6})
            for name in ["achievements", "difficulties", "participation", "recommendations"]
        }


# --- audit-trail export ----------------------------------------------------------------


class PeriodForm(Form):
    du = forms.DateField(
        label=_("Du"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    au = forms.DateField(
        label=_("Au (inclus)"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    def clean(self):
        data = super().clean()
        if data.get("du") and data.get("au") and data["du"] > data["au"]:
            raise ValidationError(_("La date de début doit précéder la date de fin."))
        return data
