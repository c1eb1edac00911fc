from django.contrib import admin
from django.urls import include, path
from viewflow.urls import Site

from web.frontend import CoordoApp

site = Site(
    title="Coordo", primary_color="#0b6e4f", secondary_color="#52606d", viewsets=[CoordoApp()]
)

urlpatterns = [
    path("admin/", admin.site.urls),
    path("comptes/", include("django.contrib.auth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", site.urls),
]
