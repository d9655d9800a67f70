from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "shequ.core"
    label = "core"
    verbose_name = _("Core: accounts, scope and personal data")

    def ready(self):
        from django.contrib.auth.signals import user_logged_in

        from .middleware import mark_signed_in

        user_logged_in.connect(mark_signed_in, dispatch_uid="shequ-signed-in-at")
