from django.urls import path

from . import views
from .io_urls import urlpatterns as io_urlpatterns

app_name = "areas"
urlpatterns = [
    *io_urlpatterns,
    path("places/<str:code>/", views.PlaceView.as_view(), name="place"),
    path("<str:code>/", views.AreaView.as_view(), name="area"),
]
