from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
router.register("audit", views.AuditEventViewSet, basename="auditevent")
router.register("export-requests", views.ExportRequestViewSet, basename="exportrequest")
urlpatterns = router.urls
