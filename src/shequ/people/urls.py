from django.urls import path

from . import views
from .export_urls import urlpatterns as export_urlpatterns

app_name = "people"
urlpatterns: list = [
    *export_urlpatterns,
    path("households/<int:pk>/", views.HouseholdView.as_view(), name="household"),
    path("persons/<int:pk>/", views.PersonView.as_view(), name="person"),
    path("persons/<int:pk>/reveal/", views.RevealView.as_view(), name="reveal"),
]
