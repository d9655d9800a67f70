from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class GovernanceConfig(AppConfig):
    """Rules for data use (数据使用管理): the audit trail and export requests."""

    name = "shequ.governance"
    label = "governance"
    verbose_name = _("Data use: audit and exports")

    def ready(self):
        from . import signals

        signals.connect()
