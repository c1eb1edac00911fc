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
from projects.models import (
    ACTIVE_STATES,
    Action,
    Meeting,
    Objective,
    Opinion,
    Organisation,
    Place,
    Programme,
    ResidentProposal,
    WorkingGroup,
)


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


def _with_places(fields) -> list[str]:
    """The fiche's fields, its places (its territory) right after its free-text territory."""
    fields = list(fields)
    fields.insert(fields.index("territory") + 1, "places")
    return fields


class FicheForm(ModelForm):
    """The fiche action as the coordinator and the working group write it."""

    places = forms.ModelMultipleChoiceField(
        label=_("Lieux ciblés"),
        queryset=Place.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_(
            "Les communes, l'EPCI ou les quartiers prioritaires (QPV) que vise l'action, parmi "
            "ceux du territoire du dispositif. Aucun lieu coché : tout le territoire."
        ),
    )
    field_order = _with_places(Action.FICHE_FIELDS)

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
        # A retired objective (or axis) is no longer offered, but a fiche keeps its own.
        self.fields["objective"].queryset = (
            Objective.objects.choosable(keep=self.instance.objective_id)
            .filter(axis__programme=programme)
            .select_related("axis")
        )
        self.fields["working_group"].queryset = WorkingGroup.objects.filter(programme=programme)
        self.fields["lead_organisation"].queryset = Organisation.objects.all()
        self.fields["places"].queryset = programme.places.in_reading_order()
        if self.instance.pk:
            self.initial["places"] = [p.pk for p in self.instance.places.all()]

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("planned_start"), cleaned.get("planned_end")
        if start and end and end < start:
            self.add_error("planned_end", gettext("La fin prévue doit suivre le début prévu."))
        return cleaned


class MeetingForm(ModelForm):
    """Convening a séance of a body the user animates."""

    class Meta:
        model = Meeting
        fields = ["body", "working_group", "date", "place"]
        widgets = {"date": forms.DateTimeInput(attrs={"type": "datetime-local"})}
        help_texts = {"working_group": _("Pour une séance de groupe de travail.")}

    def __init__(self, *args, programme, bodies, groups, **kwargs):
        super().__init__(*args, **kwargs)
        self.instance.programme = programme
        self.fields["body"].choices = [
            (value, label) for value, label in Meeting.Body.choices if value in bodies
        ]
        self.fields["working_group"].queryset = programme.working_groups.filter(
            pk__in=[g.pk for g in groups]
        )


class RescheduleForm(ModelForm):
    """A new date or place for a séance (the invitees are convened again)."""

    class Meta:
        model = Meeting
        fields = ["date", "place"]
        widgets = {
            "date": forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
        }


class CancelForm(Form):
    reason = forms.CharField(
        label=_("Motif de l'annulation (envoyé aux invités)"),
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=2000,
    )


class AgendaItemForm(Form):
    """A fiche or a free topic added to a séance already planned."""

    action = forms.ModelChoiceField(
        label=_("Fiche action"), queryset=Action.objects.none(), required=False
    )
    topic = forms.CharField(label=_("ou sujet libre"), max_length=300, required=False)

    def __init__(self, *args, programme, meeting, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["action"].queryset = (
            programme.actions.filter(state__in=ACTIVE_STATES)
            .exclude(agenda_items__meeting=meeting)
            .order_by("title")
        )

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("action") and not (cleaned.get("topic") or "").strip():
            raise forms.ValidationError(
                gettext("Choisissez une fiche ou écrivez le sujet à aborder.")
            )
        return cleaned


class MinutesForm(Form):
    minutes = forms.CharField(
        label=_("Compte rendu"),
        widget=forms.Textarea(attrs={"rows": 10}),
        max_length=20_000,
        help_text=_("Pas de données nominatives de patients ou d'usagers."),
    )


class OpinionForm(Form):
    verdict = forms.ChoiceField(
        label=_("Avis"), choices=Opinion.Verdict.choices, widget=forms.RadioSelect
    )
    text = forms.CharField(
        label=_("Motivation"), widget=forms.Textarea(attrs={"rows": 3}), max_length=20_000
    )


class SettingsForm(ModelForm):
    """How the programme works, set by its coordination."""

    class Meta:
        model = Programme
        fields = [
            "task_due_days",
            "has_cotech",
            "cotech_days",
            "leads_file_requests",
            "reminder_days",
            "public_page",
            "public_amounts",
            "contact_retention_months",
        ]


# --- funding ---------------------------------------------------------------------------


class BudgetLineForm(ModelForm):
    class Meta:
        model = BudgetLine
        fields = ["year", "category", "label", "planned"]
        field_classes = {"planned": AmountField}
        help_texts = {
            "label": _(
                "Ce que la ligne finance, par exemple « Vacations d'animation » (vide : le nom "
                "de la catégorie). Plusieurs lignes par catégorie et par année sont possibles."
            )
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["label"].required = False  # the service names it after its category


class BudgetLineEditForm(Form):
    """A line of the plan while the fiche is prepared: what it pays for, its planned amount."""

    label = forms.CharField(
        label=_("Libellé"), max_length=BudgetLine._meta.get_field("label").max_length
    )
    planned = AmountField(label=_("Prévisionnel"), min_value=0, decimal_places=2, max_digits=12)


class BudgetActualForm(Form):
    """What a line actually cost (réalisé), while the fiche is carried out and evaluated."""

    actual = AmountField(label=_("Réalisé"), min_value=0, decimal_places=2, max_digits=12)


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


# --- residents' proposals: the public page (web/views/public.py) -----------------------


def _proposal_limit(name: str) -> int:
    return ResidentProposal._meta.get_field(name).max_length


class ResidentProposalForm(Form):
    """A resident's idea, typed without an account: each text within its column, and a contact
    kept only with the explicit consent, for the programme's retention period."""

    idea = forms.CharField(
        label=_("Votre idée, en une phrase"),
        max_length=_proposal_limit("idea"),
        error_messages={"required": _("Écrivez votre idée en quelques mots.")},
    )
    need = forms.CharField(
        label=_("Le besoin que vous constatez"),
        widget=forms.Textarea(attrs={"rows": 6}),
        max_length=_proposal_limit("need"),
        help_text=_(
            "Qui est concerné, ce qui manque aujourd'hui, ce que votre idée changerait. "
            "Sans nom ni information de santé sur une personne."
        ),
        error_messages={"required": _("Décrivez le besoin que vous constatez.")},
    )
    neighbourhood = forms.CharField(
        label=_("Quartier ou commune (facultatif)"),
        max_length=_proposal_limit("neighbourhood"),
        required=False,
    )
    contact_email = forms.EmailField(
        label=_("Votre courriel (facultatif)"),
        max_length=_proposal_limit("contact_email"),
        required=False,
        error_messages={"invalid": _("Saisissez une adresse électronique valide, ou rien.")},
    )
    contact_consent = forms.BooleanField(
        label=_(
            "J'accepte que la coordination conserve mon courriel pour me recontacter au sujet "
            "de ma proposition."
        ),
        required=False,
    )

    def __init__(self, *args, retention_months: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["contact_email"].widget.attrs["autocomplete"] = "email"
        self.fields["contact_email"].help_text = _(
            "Votre courriel est conservé {n} mois puis effacé automatiquement. Seule la "
            "coordination le voit ; il n'est jamais publié."
        ).format(n=retention_months)

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("contact_email") and not cleaned.get("contact_consent"):
            self.add_error(
                "contact_consent",
                gettext("Cochez cette case pour que nous gardions votre courriel, ou effacez-le."),
            )
        return cleaned
