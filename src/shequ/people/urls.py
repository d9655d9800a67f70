from django.urls import path

from . import views
from .export_urls import urlpatterns as export_urlpatterns

app_name = "people"
urlpatterns: list = [
    *export_urlpatterns,
    path("households/<int:pk>/", views.HouseholdView.as_view(), name="household"),
    path("persons/<int:pk>/", views.PersonView.as_view(), name="person"),
    path("persons/<int:pk>/reveal/", views.RevealView.as_view(), name="reveal"),
    path("persons/<int:pk>/split/", views.person_split, name="split"),
    path("persons/<int:pk>/merge/", views.person_merge, name="merge"),
    path("sources/", views.sources_page, name="sources"),
    path("sources/<slug:code>/feedback.csv", views.feedback_csv, name="feedback"),
    path("batches/<int:pk>/", views.batch_page, name="batch"),
    path("batches/<int:pk>/flagged.csv", views.flagged_csv, name="flagged"),
    path("review/", views.review_page, name="review"),
    path("review/<int:pk>/decide/", views.review_decide, name="review_decide"),
]
