"""Account endpoints of the API (tokens)."""

from django.urls import path

from .views import obtain_token

urlpatterns = [
    path("auth/token/", obtain_token, name="api-token"),
]
