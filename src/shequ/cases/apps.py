from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CasesConfig(AppConfig):
    name = "shequ.cases"
    label = "cases"
    verbose_name = _("Resident requests and events")

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from shequ.areas.models import Area

        def area_saved(sender, instance, **kwargs):
            from .routing import update_extent

            if not kwargs.get("raw"):
                update_extent(instance)

        def area_deleted(sender, instance, **kwargs):
            from .models import AreaExtent

            AreaExtent.objects.filter(area_code=instance.code).delete()

        post_save.connect(area_saved, sender=Area, dispatch_uid="cases-area-extent", weak=False)

        from .models import WorkCalendarDay
        from .workcalendar import Calendar

        for signal in (post_save, post_delete):
            signal.connect(Calendar.forget, sender=WorkCalendarDay, weak=False)
        post_delete.connect(
            area_deleted, sender=Area, dispatch_uid="cases-area-extent-del", weak=False
        )

        from django.db.models.signals import post_migrate

        from . import reference
        from .models import Category, Department, RoutingRule

        for model in (Category, Department, RoutingRule, Area):
            for signal in (post_save, post_delete):
                signal.connect(
                    reference.forget,
                    sender=model,
                    dispatch_uid=f"cases-reference-{model._meta.label_lower}-{signal is post_save}",
                    weak=False,
                )
        post_migrate.connect(reference.forget, dispatch_uid="cases-reference-migrate", weak=False)

    def warm_up(self) -> None:
        """Load what intake and routing read from the process (``shequ.core.warmup``)."""
        from . import classify, reference
        from .workcalendar import Calendar

        reference.reference.get()
        reference.extents.get()
        Calendar.current()
        classify.suggest("路灯不亮")  # the keyword rules, and the installed model if any
