"""The endpoints of ``/api/v1/``. Reads: only what the person's memberships let them see (an
object outside their programmes is a 404, as on the pages). Writes: the services, with the
version the client saw; their refusals become the error codes of ``api.errors``."""

from __future__ import annotations

from django.db.models import CharField, Count, IntegerField, OuterRef, Q, Subquery, Value
from django.db.models.functions import Cast, Coalesce
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action as route
from rest_framework.exceptions import ValidationError
from rest_framework.filters import OrderingFilter
from rest_framework.response import Response

from audit import chain
from audit.models import AuditEvent
from evaluation.models import EvaluationReport, Indicator, Measurement
from funding.models import FundingRequest, Tranche
from projects import lifecycle
from projects.models import (
    Action,
    Axis,
    Meeting,
    Objective,
    Organisation,
    Programme,
    WorkingGroup,
)
from projects.permissions import visible_programme_ids, visible_programmes
from reporting.region import region
from workflows import queues, services, task_lists
from workflows.filters import MAX_ID, ActionFilter, FundingFilter, IdFilter, YearFilter

from . import serializers as s
from .pagination import AuditCursor

AUDIT_ROLES = {"coordinator", "ars_referent"}


def _ip(request) -> str | None:
    return request.META.get("REMOTE_ADDR") or None


def _pk(value, field: str) -> int:
    if isinstance(value, int) and 0 < value <= MAX_ID:
        return value
    raise ValidationError({field: [_("Identifiant invalide.")]})


def _last_change(events):
    last = events.exclude(event__in=chain.NOT_CHANGES).order_by("-pk").values("pk")[:1]
    return Coalesce(Subquery(last, output_field=IntegerField()), Value(0))


def _fiche_version():
    """Each fiche's version in the query: the last event that changed it or one of its parts
    (``audit.chain.version``, for many rows at once)."""
    return _last_change(AuditEvent.objects.filter(action_id=OuterRef("pk")))


def _request_version():
    """Each funding request's version in the query: its own events and its payments'."""
    as_text = Cast(OuterRef("pk"), CharField())
    tranches = Tranche.objects.filter(request_id=OuterRef(OuterRef("pk"))).annotate(
        key=Cast("pk", CharField())
    )
    return _last_change(
        AuditEvent.objects.filter(
            Q(object_type="funding.fundingrequest", object_id=as_text)
            | Q(object_type="funding.tranche", object_id__in=tranches.values("key"))
        )
    )


class Numbered:
    """Object ids in paths: digits a database column holds (anything else does not match: 404)."""

    lookup_value_regex = "[0-9]{1,18}"


class InProgramme(filters.FilterSet):
    programme = IdFilter(field_name="programme_id")


class ProgrammeViewSet(Numbered, viewsets.ReadOnlyModelViewSet):
    """The programmes the person belongs to."""

    serializer_class = s.ProgrammeSerializer

    def get_queryset(self):
        return (
            visible_programmes(self.request.user)
            .order_by("name", "pk")
            .prefetch_related("places")  # the same queries however many places
        )

    @extend_schema(
        responses=s.AuditEventSerializer(many=True),
        parameters=[OpenApiParameter("cursor", str, description="Page suivante (curseur).")],
    )
    @route(detail=True, methods=["get"], url_path="audit", pagination_class=AuditCursor)
    def audit(self, request, pk=None):
        """The programme's audit trail, oldest first (coordination and ARS referent only)."""
        programme = self._audited(pk)
        page = self.paginate_queryset(AuditEvent.objects.filter(programme=programme))
        return self.get_paginated_response(s.AuditEventSerializer(page, many=True).data)

    @extend_schema(responses=s.ChainSerializer)
    @route(detail=True, methods=["get"], url_path="audit/verify")
    def verify(self, request, pk=None):
        """The verdict of ``verify_audit`` on the programme's chain."""
        programme = self._audited(pk)
        report = chain.verify_chain(programme_id=programme.pk)
        last = AuditEvent.objects.filter(programme=programme).order_by("-seq").first()
        return Response(
            s.ChainSerializer(
                {
                    "intact": report.ok,
                    "events": report.events,
                    "last_seq": last.seq if last else None,
                    "last_hash": report.last_hash,
                    "first_broken_seq": report.broken_seq,
                    "message": report.reason or _("Chaîne intacte."),
                }
            ).data
        )

    def _audited(self, pk) -> Programme:
        programme = get_object_or_404(self.get_queryset(), pk=pk)
        if not services.roles_on(self.request.user, programme) & AUDIT_ROLES:
            raise services.Refused(
                "role", _("Le journal d'audit est réservé à la coordination et au référent ARS.")
            )
        return programme


class AxisViewSet(Numbered, viewsets.ReadOnlyModelViewSet):
    serializer_class = s.AxisSerializer
    filterset_class = InProgramme

    def get_queryset(self):
        return Axis.objects.filter(programme_id__in=visible_programme_ids(self.request.user))


class ObjectiveFilter(filters.FilterSet):
    programme = IdFilter(field_name="axis__programme_id")


class ObjectiveViewSet(Numbered, viewsets.ReadOnlyModelViewSet):
    serializer_class = s.ObjectiveSerializer
    filterset_class = ObjectiveFilter

    def get_queryset(self):
        ids = visible_programme_ids(self.request.user)
        return Objective.objects.filter(axis__programme_id__in=ids).select_related("axis")


class WorkingGroupViewSet(Numbered, viewsets.ReadOnlyModelViewSet):
    serializer_class = s.WorkingGroupSerializer
    filterset_class = InProgramme

    def get_queryset(self):
        return WorkingGroup.objects.filter(
            programme_id__in=visible_programme_ids(self.request.user)
        )


class OrganisationViewSet(Numbered, viewsets.ReadOnlyModelViewSet):
    """The organisations of the person's programmes: signatories, members', leads, funders."""

    serializer_class = s.OrganisationSerializer

    def get_queryset(self):
        ids = visible_programme_ids(self.request.user)
        return (
            Organisation.objects.filter(
                Q(signed_programmes__in=ids)
                | Q(memberships__programme_id__in=ids)
                | Q(led_actions__programme_id__in=ids)
                | Q(funding_requests__action__programme_id__in=ids)
            )
            .distinct()
            .order_by("name", "pk")
        )


@extend_schema_field(OpenApiTypes.INT)
class Year(YearFilter):
    """A year (the schema says so: the filter reads a date's year)."""


class FicheFilter(ActionFilter):
    programme = IdFilter(field_name="programme_id")
    annee = Year(field_name="planned_start__year")


class FicheViewSet(
    Numbered, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Fiches actions: list (filters as on the list page, ``ordering``), detail with budget
    and indicators; propose (POST), edit (PATCH with ``seen_version``), transitions."""

    filterset_class = FicheFilter
    filter_backends = [filters.DjangoFilterBackend, OrderingFilter]
    ordering_fields = ["id", "title", "state", "planned_start", "updated_at"]
    ordering = ["programme_id", "id"]

    def get_queryset(self):
        queryset = Action.objects.filter(
            programme_id__in=visible_programme_ids(self.request.user)
        ).annotate(version=_fiche_version())
        if self.action == "retrieve":
            return queryset.select_related("created_by").prefetch_related(
                "budget_lines", "indicators", "partners"
            )
        return queryset.select_related("created_by")

    def get_serializer_class(self):
        return s.FicheDetailSerializer if self.action == "retrieve" else s.FicheSerializer

    def _fiche_data(self, data: dict, programme_id: int) -> dict:
        """Ids of the payload turned into the programme's objects (unknown: 400)."""
        data = dict(data)
        lookups = {
            "objective": Objective.objects.filter(axis__programme_id=programme_id),
            "working_group": WorkingGroup.objects.filter(programme_id=programme_id),
            "lead_organisation": Organisation.objects.all(),
        }
        for field, queryset in lookups.items():
            if data.get(field) is not None:
                data[field] = queryset.filter(pk=data[field]).first()
                if data[field] is None:
                    raise ValidationError({field: [_("Inconnu dans ce dispositif.")]})
        return data

    @extend_schema(request=s.FicheCreateSerializer, responses={201: s.FicheDetailSerializer})
    def create(self, request):
        """Propose a fiche (every member of the programme may)."""
        payload = s.FicheCreateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = dict(payload.validated_data)
        programme = visible_programmes(request.user).filter(pk=data.pop("programme")).first()
        if programme is None:
            raise Http404
        action = services.create_action(
            programme=programme,
            actor=request.user,
            data=self._fiche_data(data, programme.pk),
            ip=_ip(request),
        )
        return Response(
            s.FicheDetailSerializer(self.get_queryset().get(pk=action.pk)).data,
            status=status.HTTP_201_CREATED,
        )

    @extend_schema(request=s.FicheEditSerializer, responses=s.FicheDetailSerializer)
    def partial_update(self, request, pk=None):
        """Edit the fiche as seen at ``seen_version`` (a newer version: 409)."""
        action = get_object_or_404(self.get_queryset(), pk=pk)
        payload = s.FicheEditSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = dict(payload.validated_data)
        seen = data.pop("seen_version")
        services.update_action(
            action=action,
            actor=request.user,
            data=self._fiche_data(data, action.programme_id),
            seen=seen,
            ip=_ip(request),
        )
        return Response(s.FicheDetailSerializer(self.get_queryset().get(pk=action.pk)).data)

    @extend_schema(
        request=s.TransitionSerializer,
        responses={200: s.FicheDetailSerializer},
        parameters=[
            OpenApiParameter("name", str, OpenApiParameter.PATH, enum=list(lifecycle.names(Action)))
        ],
    )
    @route(detail=True, methods=["post"], url_path=r"transitions/(?P<name>[a-z_]+)")
    def transition(self, request, pk=None, name=None):
        """Run a transition of the fiche's lifecycle as seen at ``seen_version``."""
        action = get_object_or_404(self.get_queryset(), pk=pk)
        if name not in lifecycle.names(Action):
            raise Http404
        payload = s.TransitionSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        common = {
            "actor": request.user,
            "seen": data["seen_version"],
            "comment": data["comment"],
            "ip": _ip(request),
        }
        if name == "start_co_construction":
            group = None
            if data.get("working_group"):
                group = action.programme.working_groups.filter(pk=data["working_group"]).first()
                if group is None:
                    raise ValidationError({"working_group": [_("Inconnu dans ce dispositif.")]})
            services.take_up(action=action, working_group=group, **common)
        elif name == "merge":
            into = action.programme.actions.filter(pk=data.get("into") or 0).first()
            services.transition(action, name, into=into, **common)
        else:
            services.transition(action, name, **common)
        return Response(s.FicheDetailSerializer(self.get_queryset().get(pk=action.pk)).data)


class RequestViewSet(
    Numbered, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Funding requests and their payments; create, and the request's transitions (file,
    grant, refuse, withdraw) as seen at ``seen_version``. The coordination records a funder's
    decision on its behalf from the pages only (with the decision letter)."""

    serializer_class = s.FundingRequestSerializer
    filterset_class = FundingFilter

    def get_queryset(self):
        return (
            FundingRequest.objects.filter(
                action__programme_id__in=visible_programme_ids(self.request.user)
            )
            .select_related("action")
            .prefetch_related("tranches")
            .annotate(version=_request_version())
            .order_by("pk")
        )

    def _detail(self, request_obj) -> dict:
        return s.FundingRequestSerializer(request_obj).data

    @extend_schema(
        request=s.FundingRequestCreateSerializer, responses={201: s.FundingRequestSerializer}
    )
    def create(self, request):
        payload = s.FundingRequestCreateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        action = Action.objects.filter(
            pk=data["action"], programme_id__in=visible_programme_ids(request.user)
        ).first()
        if action is None:
            raise Http404
        created = services.create_funding_request(
            action=action,
            actor=request.user,
            funder_id=data["funder"],
            scheme=data["scheme"],
            year=data["year"],
            requested_amount=data["requested_amount"],
            seen=data.get("seen_version"),
            ip=_ip(request),
        )
        return Response(
            self._detail(self.get_queryset().get(pk=created.pk)), status=status.HTTP_201_CREATED
        )

    @extend_schema(
        request=s.RequestTransitionSerializer,
        responses=s.FundingRequestSerializer,
        parameters=[
            OpenApiParameter(
                "name", str, OpenApiParameter.PATH, enum=list(lifecycle.names(FundingRequest))
            )
        ],
    )
    @route(detail=True, methods=["post"], url_path=r"transitions/(?P<name>[a-z_]+)")
    def transition(self, request, pk=None, name=None):
        request_obj = get_object_or_404(self.get_queryset(), pk=pk)
        if name not in lifecycle.names(FundingRequest):
            raise Http404
        payload = s.RequestTransitionSerializer(data=request.data, context={"name": name})
        payload.is_valid(raise_exception=True)
        services.transition(
            request_obj,
            name,
            actor=request.user,
            seen=payload.validated_data["seen_version"],
            comment=payload.validated_data["comment"],
            ip=_ip(request),
            **payload.arguments(),
        )
        return Response(self._detail(self.get_queryset().get(pk=request_obj.pk)))


class MeasurementFilter(filters.FilterSet):
    fiche = IdFilter(field_name="indicator__action_id")
    programme = IdFilter(field_name="indicator__action__programme_id")


class MeasurementViewSet(
    Numbered, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    serializer_class = s.MeasurementSerializer
    filterset_class = MeasurementFilter

    def get_queryset(self):
        ids = visible_programme_ids(self.request.user)
        return (
            Measurement.objects.filter(indicator__action__programme_id__in=ids)
            .select_related("indicator", "entered_by")
            .order_by("pk")
        )

    @extend_schema(request=s.MeasurementCreateSerializer, responses={201: s.MeasurementSerializer})
    def create(self, request):
        """Record a measurement of an indicator, the fiche as seen at ``seen_version``."""
        payload = s.MeasurementCreateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = dict(payload.validated_data)
        indicator = (
            Indicator.objects.filter(
                pk=data.pop("indicator"),
                action__programme_id__in=visible_programme_ids(request.user),
            )
            .select_related("action")
            .first()
        )
        if indicator is None:
            raise Http404
        seen = data.pop("seen_version")
        measurement = services.record_measurement(
            indicator=indicator, actor=request.user, seen=seen, ip=_ip(request), **data
        )
        return Response(
            s.MeasurementSerializer(self.get_queryset().get(pk=measurement.pk)).data,
            status=status.HTTP_201_CREATED,
        )


class ReportFilter(filters.FilterSet):
    programme = IdFilter(field_name="action__programme_id")


class EvaluationReportViewSet(Numbered, viewsets.ReadOnlyModelViewSet):
    serializer_class = s.EvaluationReportSerializer
    filterset_class = ReportFilter

    def get_queryset(self):
        ids = visible_programme_ids(self.request.user)
        return (
            EvaluationReport.objects.filter(action__programme_id__in=ids)
            .select_related("written_by")
            .order_by("pk")
        )


class SeanceViewSet(Numbered, viewsets.ReadOnlyModelViewSet):
    """Séances of every body, with their agenda and decisions."""

    serializer_class = s.SeanceSerializer
    filterset_class = InProgramme

    def get_queryset(self):
        return (
            Meeting.objects.filter(programme_id__in=visible_programme_ids(self.request.user))
            .select_related("chair")
            .prefetch_related("agenda_items")
            .annotate(present=Count("attendees", distinct=True))
            .order_by("-date", "-pk")
        )


class TaskViewSet(viewsets.ViewSet):
    """The person's open tasks, soonest due first."""

    @extend_schema(responses=s.TaskSerializer(many=True))
    def list(self, request):
        rows = task_lists.task_rows(task_lists.ordered_tasks(queues.task_queue(request.user))[:200])
        return Response(
            s.TaskSerializer(
                [
                    {
                        "id": row.task.pk,
                        "title": str(row.stage.label),
                        "programme": row.programme.pk,
                        "object_type": "signing"
                        if row.signature
                        else "funding_request"
                        if row.request
                        else "fiche",
                        "object_id": row.signature.signing_id
                        if row.signature
                        else row.request.pk
                        if row.request
                        else row.action.pk,
                        "due": row.due,
                        "late": row.overdue,
                        "taken_by": (row.task.owner.get_full_name() or row.task.owner.username)
                        if row.task.owner
                        else None,
                    }
                    for row in rows
                ],
                many=True,
            ).data
        )


class RegionViewSet(viewsets.ViewSet):
    """The territory: every programme the person belongs to, consolidated (for members of two
    programmes or more, as the page « Vue du territoire »)."""

    @extend_schema(
        parameters=[s.RegionQuerySerializer],
        responses=s.RegionSerializer,
    )
    def list(self, request):
        query = s.RegionQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        if len(visible_programmes(request.user).values("pk")[:2]) < 2:
            raise services.Refused(
                "role", _("La vue du territoire est pour les membres de plusieurs dispositifs.")
            )
        figures = region(
            user=request.user,
            overdue=queues.overdue_actions(),
            kind=query.validated_data.get("type"),
            year=query.validated_data.get("annee"),
        )
        return Response(s.RegionSerializer(figures).data)
