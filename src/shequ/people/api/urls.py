from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
router.register("persons", views.PersonViewSet, basename="person")
router.register("households", views.HouseholdViewSet, basename="household")
router.register("residences", views.ResidenceViewSet, basename="residence")
router.register("batches", views.BatchViewSet, basename="batch")
urlpatterns = router.urls
