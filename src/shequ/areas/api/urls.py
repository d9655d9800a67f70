from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
router.register("areas", views.AreaViewSet, basename="area")
router.register("places", views.PlaceViewSet, basename="place")
router.register("facilities", views.FacilityViewSet, basename="facility")
urlpatterns = router.urls
