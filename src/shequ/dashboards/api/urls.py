from django.urls import path

from .views import DashboardView

urlpatterns = [
    path("dashboards/<str:area_code>/", DashboardView.as_view(), name="dashboard-detail"),
]
