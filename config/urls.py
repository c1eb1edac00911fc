from django.contrib import admin
from django.urls import include, path
from viewflow.urls import Site

from web.frontend import CoordoApp
from web.views import public

site = Site(
    title="Coordo", primary_color="#0b6e4f", secondary_color="#52606d", viewsets=[CoordoApp()]
)

# The public pages of the programmes: no account, outside the application's frame.
public_urls = [
    path("dispositifs/<id:pk>/proposer/", public.propose, name="propose"),
    path("dispositifs/<id:pk>/merci/", public.thanks, name="thanks"),
]

urlpatterns = [
    path("admin/", admin.site.urls),
    path("comptes/", include("django.contrib.auth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("public/", include((public_urls, "public"))),
    path("", site.urls),
]
