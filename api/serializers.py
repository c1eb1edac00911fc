"""What the API shows of each object (read), and what it accepts to change one (write: typed
and bounded here, then checked again and applied by the services)."""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from audit.models import AuditEvent
from evaluation.models import EvaluationReport, Indicator, Measurement
from funding.models import BudgetLine, FundingRequest, Tranche
from projects.models import (
    Action,
    AgendaItem,
    Axis,
    Meeting,
    Objective,
    Organisation,
    Place,
    Programme,
    WorkingGroup,
)

MONEY = {"max_digits": 14, "decimal_places": 2, "min_value": 0, "max_value": 10**11}
TEXT = 20_000


@extend_schema_field({"type": "string"})
class PersonField(serializers.Field):
    """A person as the pages name them: full name, or login."""

    def to_representation(self, user) -> str:
        return user.get_full_name() or user.username


@extend_schema_field({"type": "string", "nullable": True})
class NullablePersonField(PersonField):
    def to_representation(self, user):
        return None if user is None else super().to_representation(user)


class LabelField(serializers.CharField):
    """The display label of a choice (``get_<field>_display``)."""

    def __init__(self, field: str, **kwargs):
        super().__init__(source=f"get_{field}_display", read_only=True, **kwargs)


class PlaceSerializer(serializers.ModelSerializer):
    class Meta:
        model = Place
        fields = ["kind", "name"]


class ProgrammeSerializer(serializers.ModelSerializer):
    kind_label = LabelField("kind")
    status_label = LabelField("status")
    # Its communes, EPCI and QPV (the viewset prefetches them).
    places = PlaceSerializer(many=True, read_only=True)

    class Meta:
        model = Programme
        fields = [
            "id",
            "kind",
            "kind_label",
            "name",
            "territory",
            "places",
            "start_date",
            "end_date",
            "status",
            "status_label",
            "has_cotech",
        ]


class AxisSerializer(serializers.ModelSerializer):
    class Meta:
        model = Axis
        fields = ["id", "programme", "number", "title"]


class ObjectiveSerializer(serializers.ModelSerializer):
    programme = serializers.IntegerField(source="axis.programme_id", read_only=True)

    class Meta:
        model = Objective
        fields = ["id", "programme", "axis", "parent", "level", "title"]


class OrganisationSerializer(serializers.ModelSerializer):
    kind_label = LabelField("kind")

    class Meta:
        model = Organisation
        fields = ["id", "name", "kind", "kind_label"]


class WorkingGroupSerializer(serializers.ModelSerializer):
    class Meta:
        model = WorkingGroup
        fields = ["id", "programme", "name", "description"]


class BudgetLineSerializer(serializers.ModelSerializer):
    category_label = LabelField("category")

    class Meta:
        model = BudgetLine
        fields = ["id", "year", "category", "category_label", "planned", "actual"]


class IndicatorSerializer(serializers.ModelSerializer):
    kind_label = LabelField("kind")

    class Meta:
        model = Indicator
        fields = [
            "id",
            "kind",
            "kind_label",
            "label",
            "unit",
            "baseline",
            "target",
            "collection_method",
            "frequency",
        ]


class FicheSerializer(serializers.ModelSerializer):
    """A fiche in lists; ``version`` is what a change must send back as ``seen_version``."""

    state_label = LabelField("state")
    origin_label = LabelField("origin")
    version = serializers.IntegerField(read_only=True)
    proposed_by = PersonField(source="created_by", read_only=True)

    class Meta:
        model = Action
        fields = [
            "id",
            "programme",
            "title",
            "state",
            "state_label",
            "objective",
            "lead_organisation",
            "working_group",
            "participation_level",
            "planned_start",
            "planned_end",
            "own_funds",
            "origin",
            "origin_label",
            "proposed_by",
            "merged_into",
            "created_at",
            "updated_at",
            "version",
        ]


class FicheDetailSerializer(FicheSerializer):
    budget_lines = BudgetLineSerializer(many=True, read_only=True)
    indicators = IndicatorSerializer(many=True, read_only=True)
    partners = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    # The places it targets among its programme's (none: the whole territory).
    places = PlaceSerializer(many=True, read_only=True)

    class Meta(FicheSerializer.Meta):
        fields = [
            *FicheSerializer.Meta.fields,
            "context",
            "target_public",
            "territory",
            "places",
            "vulnerable_public",
            "partners",
            "budget_lines",
            "indicators",
        ]


class FicheWriteSerializer(serializers.Serializer):
    """The fields a proposal or an edit may set (all optional for an edit)."""

    title = serializers.CharField(max_length=300)
    context = serializers.CharField(max_length=TEXT, required=False, allow_blank=True)
    target_public = serializers.CharField(max_length=TEXT, required=False, allow_blank=True)
    territory = serializers.CharField(max_length=300, required=False, allow_blank=True)
    objective = serializers.IntegerField(required=False, allow_null=True, min_value=1)
    lead_organisation = serializers.IntegerField(required=False, allow_null=True, min_value=1)
    working_group = serializers.IntegerField(required=False, allow_null=True, min_value=1)
    participation_level = serializers.ChoiceField(
        choices=Action._meta.get_field("participation_level").choices, required=False
    )
    planned_start = serializers.DateField(required=False, allow_null=True)
    planned_end = serializers.DateField(required=False, allow_null=True)
    own_funds = serializers.DecimalField(required=False, **MONEY)


class FicheCreateSerializer(FicheWriteSerializer):
    programme = serializers.IntegerField(min_value=1)


class FicheEditSerializer(FicheWriteSerializer):
    title = serializers.CharField(max_length=300, required=False)
    seen_version = serializers.IntegerField(min_value=0)


class TransitionSerializer(serializers.Serializer):
    """A lifecycle transition as the person saw the object (``seen_version``), with a comment
    or reason; ``working_group`` to take a proposal up, ``into`` to merge it."""

    seen_version = serializers.IntegerField(min_value=0)
    comment = serializers.CharField(max_length=TEXT, required=False, allow_blank=True, default="")
    working_group = serializers.IntegerField(required=False, allow_null=True, min_value=1)
    into = serializers.IntegerField(required=False, allow_null=True, min_value=1)


def _reference(field: str, **kwargs) -> serializers.CharField:
    max_length = FundingRequest._meta.get_field(field).max_length
    return serializers.CharField(max_length=max_length, required=False, **kwargs)


class RequestTransitionSerializer(serializers.Serializer):
    """A funding request's transition (its name in the path, given as ``context["name"]``):
    the version seen and a comment for every one; the funder's decision for ``grant``
    (amount, date, reference; ``confirm_over_request`` for more than requested) and
    ``refuse`` (date, reference); the agreement signed on paper for ``sign_agreement``
    (reference, date). A field the transition does not take is refused, not ignored."""

    seen_version = serializers.IntegerField(min_value=0)
    comment = serializers.CharField(max_length=TEXT, required=False, allow_blank=True, default="")
    amount = serializers.DecimalField(required=False, **MONEY)
    decision_date = serializers.DateField(required=False)
    decision_reference = _reference("decision_reference", allow_blank=True)
    confirm_over_request = serializers.BooleanField(required=False)
    agreement_reference = _reference("agreement_reference")
    agreement_date = serializers.DateField(required=False)

    # Per transition: the argument each field carries, then the fields it requires.
    TAKES = {
        "grant": (
            {
                "amount": "amount",
                "decision_date": "decision_date",
                "decision_reference": "reference",
                "confirm_over_request": "confirm_over_request",
            },
            {"amount", "decision_date"},
        ),
        "refuse": (
            {"decision_date": "decision_date", "decision_reference": "reference"},
            {"decision_date"},
        ),
        "sign_agreement": (
            {"agreement_reference": "reference", "agreement_date": "date"},
            {"agreement_reference", "agreement_date"},
        ),
    }

    def validate(self, data):
        carried, required = self.TAKES.get(self.context["name"], ({}, set()))
        errors = {
            field: [_("Ce champ n'est pas pris par cette transition.")]
            for field in data.keys() - {"seen_version", "comment"} - carried.keys()
        } | {field: [_("Ce champ est obligatoire.")] for field in required - data.keys()}
        if errors:
            raise serializers.ValidationError(errors)
        return data

    def arguments(self) -> dict:
        """The transition's arguments, by the names its method takes."""
        carried, _required = self.TAKES.get(self.context["name"], ({}, set()))
        data = self.validated_data
        return {argument: data[field] for field, argument in carried.items() if field in data}


class TrancheSerializer(serializers.ModelSerializer):
    label_label = LabelField("label")

    class Meta:
        model = Tranche
        fields = [
            "id",
            "label",
            "label_label",
            "expected_date",
            "expected_amount",
            "received_date",
            "received_amount",
        ]


class FundingRequestSerializer(serializers.ModelSerializer):
    state_label = LabelField("state")
    programme = serializers.IntegerField(source="action.programme_id", read_only=True)
    tranches = TrancheSerializer(many=True, read_only=True)
    version = serializers.IntegerField(read_only=True)

    class Meta:
        model = FundingRequest
        fields = [
            "id",
            "programme",
            "action",
            "funder",
            "scheme",
            "year",
            "requested_amount",
            "granted_amount",
            "decision_date",
            "decision_reference",
            "agreement_reference",
            "agreement_date",
            "state",
            "state_label",
            "tranches",
            "version",
        ]


class FundingRequestCreateSerializer(serializers.Serializer):
    action = serializers.IntegerField(min_value=1)
    funder = serializers.IntegerField(min_value=1)
    scheme = serializers.CharField(max_length=100)
    year = serializers.IntegerField(min_value=1990, max_value=2100)
    requested_amount = serializers.DecimalField(**MONEY)
    seen_version = serializers.IntegerField(min_value=0, required=False)


class MeasurementSerializer(serializers.ModelSerializer):
    action = serializers.IntegerField(source="indicator.action_id", read_only=True)
    entered_by = PersonField(read_only=True)

    class Meta:
        model = Measurement
        fields = [
            "id",
            "action",
            "indicator",
            "date",
            "period",
            "value",
            "source",
            "comment",
            "entered_by",
        ]


class MeasurementCreateSerializer(serializers.Serializer):
    indicator = serializers.IntegerField(min_value=1)
    date = serializers.DateField()
    value = serializers.DecimalField(
        max_digits=14, decimal_places=2, max_value=10**11, min_value=-(10**11)
    )
    period = serializers.CharField(max_length=100, required=False, allow_blank=True)
    source = serializers.CharField(max_length=300, required=False, allow_blank=True)
    comment = serializers.CharField(max_length=TEXT, required=False, allow_blank=True)
    seen_version = serializers.IntegerField(min_value=0)


class EvaluationReportSerializer(serializers.ModelSerializer):
    written_by = NullablePersonField(read_only=True)

    class Meta:
        model = EvaluationReport
        fields = [
            "id",
            "action",
            "achievements",
            "difficulties",
            "participation",
            "recommendations",
            "written_by",
            "written_at",
        ]


class AgendaItemSerializer(serializers.ModelSerializer):
    decision_label = LabelField("decision")

    class Meta:
        model = AgendaItem
        fields = [
            "position",
            "action",
            "topic",
            "state_at_agenda",
            "decision",
            "decision_label",
            "comment",
        ]


class SeanceSerializer(serializers.ModelSerializer):
    body_label = LabelField("body")
    chair = NullablePersonField(read_only=True)
    agenda = AgendaItemSerializer(source="agenda_items", many=True, read_only=True)
    attendees = serializers.IntegerField(source="present", read_only=True)

    class Meta:
        model = Meeting
        fields = [
            "id",
            "programme",
            "body",
            "body_label",
            "working_group",
            "date",
            "place",
            "chair",
            "attendees",
            "applied_at",
            "minutes_validated_at",
            "cancelled_at",
            "agenda",
        ]


class TaskSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    programme = serializers.IntegerField()
    object_type = serializers.CharField()
    object_id = serializers.IntegerField()
    due = serializers.DateField(allow_null=True)
    late = serializers.BooleanField()
    taken_by = serializers.CharField(allow_null=True)


class AuditEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = AuditEvent
        fields = [
            "seq",
            "at",
            "actor_label",
            "object_type",
            "object_id",
            "object_repr",
            "action_id",
            "event",
            "from_state",
            "to_state",
            "changes",
            "comment",
            "hash",
            "prev_hash",
        ]


class ChainSerializer(serializers.Serializer):
    intact = serializers.BooleanField()
    events = serializers.IntegerField()
    last_seq = serializers.IntegerField(allow_null=True)
    last_hash = serializers.CharField(allow_blank=True)
    first_broken_seq = serializers.IntegerField(allow_null=True)
    message = serializers.CharField()


# --- the territory (``reporting.region.Region``, field by field) -----------------------------


class BarSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()
    value = serializers.IntegerField()


class Amounts(serializers.Serializer):
    requests = serializers.IntegerField()
    requested = serializers.DecimalField(max_digits=16, decimal_places=2)
    granted = serializers.DecimalField(max_digits=16, decimal_places=2)
    paid = serializers.DecimalField(max_digits=16, decimal_places=2)


class RegionProgrammeSerializer(Amounts):
    id = serializers.IntegerField(source="pk")
    name = serializers.CharField()
    kind = serializers.CharField()
    kind_label = serializers.CharField()
    status = serializers.CharField()
    status_label = serializers.CharField()
    territory = serializers.CharField(allow_blank=True)
    start_date = serializers.DateField()
    end_date = serializers.DateField()
    fiches = serializers.IntegerField()
    active = serializers.IntegerField()
    late = serializers.IntegerField()
    meetings = serializers.IntegerField()
    resident_proposals = serializers.IntegerField()


class RegionTotalsSerializer(Amounts):
    programmes = serializers.IntegerField()
    fiches = serializers.IntegerField()
    active = serializers.IntegerField()
    late = serializers.IntegerField()
    meetings = serializers.IntegerField()
    resident_proposals = serializers.IntegerField()


class ThemeSerializer(serializers.Serializer):
    key = serializers.CharField(allow_blank=True)
    label = serializers.CharField()
    programmes = serializers.IntegerField()
    fiches = serializers.IntegerField()
    active = serializers.IntegerField()


class FunderSerializer(Amounts):
    funder_id = serializers.IntegerField()
    name = serializers.CharField()


class FunderYearSerializer(FunderSerializer):
    year = serializers.IntegerField()


class IndicatorKindSerializer(serializers.Serializer):
    kind = serializers.CharField(allow_blank=True)
    label = serializers.CharField()
    total = serializers.IntegerField()
    measured = serializers.IntegerField()
    with_target = serializers.IntegerField()
    reached = serializers.IntegerField()


class RegionSerializer(serializers.Serializer):
    kind = serializers.CharField(allow_null=True)
    year = serializers.IntegerField(allow_null=True)
    as_of = serializers.DateField()
    generated_at = serializers.DateTimeField()
    programmes = RegionProgrammeSerializer(many=True)
    totals = RegionTotalsSerializer()
    fiches_by_state = BarSerializer(many=True)
    fiches_by_theme = ThemeSerializer(many=True)
    funding_by_funder = FunderSerializer(many=True)
    funding_by_funder_year = FunderYearSerializer(many=True)
    indicators_by_kind = IndicatorKindSerializer(many=True)
    indicators_total = IndicatorKindSerializer()
    meetings_by_body = BarSerializer(many=True)
    resident_proposals_by_state = BarSerializer(many=True)


class RegionQuerySerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=["CLS", "CLSM"], required=False)
    annee = serializers.IntegerField(min_value=1990, max_value=2100, required=False)
