from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.views.static import serve

from grids import views as grid_views

urlpatterns = [
    path("", grid_views.home, name="home"),
    path("healthz", grid_views.healthz, name="healthz"),
    path("accounts/", include("grids.account_urls")),
    path("admin/", admin.site.urls),
    path("", include("grids.urls")),
    path("rep/", include("governance.rep_urls")),
    path("staff/", include("governance.staff_urls")),
    path("", include("points.urls")),
    path("", include("deliberation.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
]

if settings.DEBUG:
    urlpatterns.append(path("media/<path:path>", serve, {"document_root": settings.MEDIA_ROOT}))
