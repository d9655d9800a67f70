"""URLs of people exports (CSV); included by people/urls.py."""

from django.urls import path

from . import exports

urlpatterns: list = [
    path("<str:area_code>/persons.csv", exports.persons_csv, name="persons_csv"),
]
