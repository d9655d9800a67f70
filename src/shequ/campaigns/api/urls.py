from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
router.register("campaigns", views.CampaignViewSet, basename="campaign")
router.register("campaign-tasks", views.VisitTaskViewSet, basename="visittask")
router.register("campaign-visits", views.VisitViewSet, basename="visit")
router.register("campaign-followups", views.FollowUpViewSet, basename="followup")
urlpatterns = router.urls
