from django.urls import path

from . import views

app_name = "areas"
urlpatterns = [
    path("<str:code>/", views.AreaView.as_view(), name="area"),
]
