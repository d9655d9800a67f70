from .export_urls import urlpatterns as export_urlpatterns

app_name = "people"
urlpatterns: list = [*export_urlpatterns]
