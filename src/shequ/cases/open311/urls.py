"""Open311 GeoReport v2 at /open311/v2/: every endpoint in .json and .xml."""

from django.urls import re_path

from . import views

app_name = "open311"
F = r"\.(?P<fmt>json|xml)$"
urlpatterns = [
    re_path(r"^discovery" + F, views.discovery, name="discovery"),
    re_path(r"^services" + F, views.services, name="services"),
    re_path(r"^services/(?P<code>[\w.-]+?)" + F, views.service_definition, name="service"),
    re_path(r"^requests" + F, views.service_requests, name="requests"),
    re_path(r"^requests/(?P<number>[A-Za-z0-9]+)" + F, views.request_detail, name="request"),
    re_path(r"^tokens/(?P<token>[\w-]+)" + F, views.token, name="token"),
    re_path(r"^(?P<path>.*)$", views.not_found, name="not_found"),
]
