from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from viewflow.urls import Site

from config import health
from web.frontend import CoordoApp
from web.views import language, public, two_factor

site = Site(
    title="Coordo", primary_color="#0b6e4f", secondary_color="#52606d", viewsets=[CoordoApp()]
)

# The public pages of the programmes: no account, outside the application's frame.
public_urls = [
    path("dispositifs/<id:pk>/", public.programme_page, name="programme"),
    path("dispositifs/<id:pk>/actualites.xml", public.news_feed, name="news"),
    path("dispositifs/<id:pk>/proposer/", public.propose, name="propose"),
    path("dispositifs/<id:pk>/merci/", public.thanks, name="thanks"),
]

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path(settings.ADMIN_PATH, admin.site.urls),
    path("comptes/verification/", two_factor.verify_page, name="two-factor-verify"),
    path("comptes/", include("django.contrib.auth.urls")),
    path("i18n/setlang/", language.set_language, name="set_language"),
    path("public/", include((public_urls, "public"))),
    path("api/v1/", include("api.urls")),
    path("", site.urls),
]
