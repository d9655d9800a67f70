from django.urls import path

from . import views

app_name = "dashboards"
urlpatterns = [
    path("", views.index, name="index"),
    path("place/<str:code>/", views.place_page, name="place"),
    path("place/<str:code>/csv/<str:key>/", views.csv_download, name="place-csv"),
    path("<str:code>/", views.area_page, name="area"),
    path("<str:code>/screen/", views.screen, name="screen"),
    path("<str:code>/print/", views.print_page, name="print"),
    path("<str:code>/summary.pdf", views.summary_pdf, name="pdf"),
    path("<str:code>/csv/<str:key>/", views.csv_download, name="csv"),
]
