"""``/api/v1/``: the resources, the OpenAPI schema, and its Swagger UI served from local files
(drf-spectacular-sidecar: no CDN; Redoc is left out, its page loads web fonts)."""

from django.http import JsonResponse
from django.urls import include, path, re_path
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
router.register("programmes", views.ProgrammeViewSet, basename="programme")
router.register("axes", views.AxisViewSet, basename="axis")
router.register("objectifs", views.ObjectiveViewSet, basename="objective")
router.register("groupes-de-travail", views.WorkingGroupViewSet, basename="working-group")
router.register("organisations", views.OrganisationViewSet, basename="organisation")
router.register("fiches", views.FicheViewSet, basename="fiche")
router.register("financements", views.RequestViewSet, basename="funding-request")
router.register("mesures", views.MeasurementViewSet, basename="measurement")
router.register("rapports-evaluation", views.EvaluationReportViewSet, basename="report")
router.register("seances", views.SeanceViewSet, basename="seance")
router.register("taches", views.TaskViewSet, basename="task")
router.register("territoire", views.RegionViewSet, basename="region")


@csrf_exempt  # it changes nothing: any method gets the same 404
def not_found(request, *args, **kwargs) -> JsonResponse:
    """Any other address under the API: a 404 in the API's own words, not a page."""
    return JsonResponse(
        {
            "code": "not_found",
            "message": _("Introuvable, ou hors de vos dispositifs."),
            "errors": {},
        },
        status=404,
    )


app_name = "api"
urlpatterns = [
    path("", include(router.urls)),
    path("schema/", SpectacularAPIView.as_view(api_version="v1"), name="schema"),
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api:schema"), name="swagger"),
    re_path(r"", not_found),
]
