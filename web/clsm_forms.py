"""The forms of the territory's places and of the CLSM's own work. The resource unit's form
says, above its only free-text field, that no one may be named, and refuses it with the model's
own validator (``clsm.anonymity``): the message is on the form before the service is even asked."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from clsm.models import (
    MAX_ATTENDANCE,
    ObservationIndicator,
    ObservationValue,
    ResourceSession,
    TrainingSession,
)
from projects.calendar import FIRST_YEAR, LAST_YEAR
from projects.models import Place, Programme

from .forms import AmountField, Form, ModelForm

MAX_COUNT = 9999


class PlaceForm(ModelForm):
    class Meta:
        model = Place
        fields = ["kind", "name"]


class ResourceSessionForm(ModelForm):
    """Counts only: how many situations, of which need, with which outcome — never who."""

    partners = forms.ModelMultipleChoiceField(
        label=_("Partenaires présents"),
        queryset=None,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Les organisations partenaires du dispositif présentes à la séance."),
    )

    class Meta:
        model = ResourceSession
        fields = [
            "date",
            *(n for n, _l in ResourceSession.NEEDS),
            *(n for n, _l in ResourceSession.OUTCOMES),
            "notes",
        ]
        widgets = {
            "date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "notes": forms.Textarea(attrs={"rows": 3, "maxlength": 2000}),
        }
        help_texts = {
            "notes": _(
                "Aucun nom, aucune initiale, aucune date de naissance, aucun numéro de "
                "sécurité sociale : Coordo n'est pas un hébergement de données de santé (HDS). "
                "Les situations se suivent hors de Coordo ; ici, seulement des nombres et des "
                "constats généraux."
            ),
        }

    def __init__(self, *args, programme: Programme, partners, **kwargs):
        super().__init__(*args, **kwargs)
        self.instance.programme = programme
        self.fields["partners"].queryset = partners
        for name, _label in ResourceSession.NEEDS + ResourceSession.OUTCOMES:
            field = self.fields[name]
            field.widget.attrs.update({"min": 0, "max": MAX_COUNT, "inputmode": "numeric"})
        if self.instance.pk:
            self.initial["partners"] = [o.pk for o in self.instance.partners.all()]

    def clean_notes(self):
        notes = (self.cleaned_data.get("notes") or "").strip()
        ResourceSession._meta.get_field("notes").run_validators(notes)  # the model's rule
        return notes

    def clean(self):
        cleaned = super().clean()
        counts = {n: cleaned.get(n) for n, _l in ResourceSession.NEEDS + ResourceSession.OUTCOMES}
        if None not in counts.values():
            error = ResourceSession(**counts).totals_error()  # the model's rule
            if error:
                self.add_error(None, error)
        return cleaned

    def _post_clean(self):
        # The rules of the session are the service's (``validated``): not run twice here.
        pass


class TrainingForm(ModelForm):
    mean_score = AmountField(
        label=_("note moyenne (sur 5)"),
        required=False,
        min_value=0,
        max_value=5,
        decimal_places=2,
        max_digits=3,
    )

    class Meta:
        model = TrainingSession
        fields = [
            "kind",
            "title",
            "date",
            "audience",
            "attendance",
            "satisfied_percent",
            "mean_score",
            "action",
        ]
        widgets = {"date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")}
        help_texts = {
            "satisfied_percent": _("Part des répondant·es satisfait·es, de 0 à 100."),
            "action": _("La fiche action dont relève la session, s'il y en a une."),
        }

    def __init__(self, *args, programme: Programme, **kwargs):
        super().__init__(*args, **kwargs)
        self.instance.programme = programme
        self.fields["action"].queryset = programme.actions.order_by("title")
        # The bound is the model's (its validator refuses more, whoever writes).
        self.fields["attendance"].widget.attrs.update({"min": 0, "max": MAX_ATTENDANCE})

    def _post_clean(self):
        pass


class IndicatorForm(ModelForm):
    class Meta:
        model = ObservationIndicator
        fields = ["name", "unit", "source"]
        help_texts = {
            "source": _("D'où vient le chiffre : ORS, CPAM, INSEE, diagnostic local de santé…")
        }

    def _post_clean(self):
        pass


class ValueForm(Form):
    year = forms.IntegerField(label=_("Année"), min_value=FIRST_YEAR, max_value=LAST_YEAR)
    value = AmountField(
        label=_("Valeur"),
        max_digits=ObservationValue._meta.get_field("value").max_digits,
        decimal_places=2,
    )
