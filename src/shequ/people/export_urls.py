"""URLs of people exports (CSV); included by people/urls.py."""

urlpatterns: list = []
