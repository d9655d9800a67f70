from django.urls import path

from . import views

app_name = "cases"
urlpatterns = [
    path("", views.WorklistView.as_view(), name="worklist"),
    path("report/", views.report, name="report"),
    path("track/", views.track, name="track"),
    path("track/<str:token>/", views.track_case, name="track_case"),
    path("hotline/", views.HotlineView.as_view(), name="hotline"),
    path("patrol/", views.StaffIntakeView.as_view(), name="patrol"),
    path("supervise/", views.SuperviseView.as_view(), name="supervise"),
    path("<str:number>/", views.CaseDetailView.as_view(), name="detail"),
    path("<str:number>/photos/<int:pk>/", views.AttachmentView.as_view(), name="attachment"),
]
