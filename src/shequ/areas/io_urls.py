"""URLs of tree import/export (areas/treeio views); included by areas/urls.py."""

from django.urls import path

from . import views_io

urlpatterns: list = [
    path("import/", views_io.TreeImportView.as_view(), name="import"),
    path("<str:code>/export.csv", views_io.TreeExportView.as_view(fmt="csv"), name="export_csv"),
    path(
        "<str:code>/export.geojson",
        views_io.TreeExportView.as_view(fmt="geojson"),
        name="export_geojson",
    ),
]
