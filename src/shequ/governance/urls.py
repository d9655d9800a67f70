from django.urls import path

from . import views

app_name = "governance"
urlpatterns = [
    path("audit/", views.audit_page, name="audit"),
    path("audit/audit.csv", views.audit_csv, name="audit_csv"),
    path("exports/", views.export_list, name="exports"),
    path("exports/new/", views.export_new, name="export_new"),
    path("exports/queue/", views.export_queue, name="export_queue"),
    path("exports/<str:number>/", views.export_detail, name="export_detail"),
    path("exports/<str:number>/decide/", views.export_decide, name="export_decide"),
    path("exports/<str:number>/download/", views.export_download, name="export_download"),
    path("open-data/<str:code>.csv", views.open_data, name="open_data"),
]
