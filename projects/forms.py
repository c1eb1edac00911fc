import re

from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from .models import Action, Meeting, Objective, Organisation, WorkingGroup


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


class FicheForm(forms.ModelForm):
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


class MeetingForm(forms.ModelForm):
    class Meta:
        model = Meeting
        fields = ["body", "date", "place"]
        widgets = {"date": forms.DateTimeInput(attrs={"type": "datetime-local"})}
