from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from shequ.core import views as core_views

# The busiest first (phones syncing visits, case intake): Django tries the patterns in order.
api_v1 = [
    path("", include("shequ.campaigns.api.urls")),
    path("", include("shequ.cases.api.urls")),
    path("", include("shequ.core.api.urls")),
    path("", include("shequ.areas.api.urls")),
    path("", include("shequ.people.api.urls")),
    path("", include("shequ.dashboards.api.urls")),
    path("", include("shequ.governance.api.urls")),
]

urlpatterns = [
    # The API first: Django tries the patterns in order, and most requests are API calls.
    path("api/v1/", include(api_v1)),
    path("", core_views.home, name="home"),
    path("accounts/", include("shequ.core.urls")),
    path("areas/", include("shequ.areas.urls")),
    path("people/", include("shequ.people.urls")),
    path("cases/", include("shequ.cases.urls")),
    path("campaigns/", include("shequ.campaigns.urls")),
    path("dashboards/", include("shequ.dashboards.urls")),
    path("", include("shequ.governance.urls")),
    path("open311/v2/", include("shequ.cases.open311.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves Swagger UI's initialiser as a script file: no inline script (CSP).
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="api-docs"),
    path("admin/", admin.site.urls),
]
