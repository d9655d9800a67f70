from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from .querysets import AppendOnlyQuerySet
from .roles import Role


class User(AbstractUser):
    """A member of staff. What they may see comes only from their role assignments."""

    display_name = models.CharField(_("display name"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        return self.display_name or self.username


def validate_area_code(value: str) -> None:
    if not value or not value.isascii() or not value.isalnum():
        raise ValidationError(_("An area code is letters and digits only, e.g. 510104001."))


class RoleAssignment(models.Model):
    """A user holds a role *at* an area: the role's permissions apply to everything whose
    ``area_code`` starts with ``area_code``."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="assignments"
    )
    role = models.CharField(_("role"), max_length=32, choices=Role.choices)
    area_code = models.CharField(_("area code"), max_length=40, validators=[validate_area_code])
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("role assignment")
        verbose_name_plural = _("role assignments")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "role", "area_code"], name="unique_role_assignment"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.get_role_display()} @ {self.area_code}"

    def clean(self) -> None:
        from django.apps import apps

        Area = apps.get_model("areas", "Area")
        if not Area.objects.filter(code=self.area_code).exists():
            raise ValidationError({"area_code": _("No area has this code.")})


class AppendOnlyModel(models.Model):
    """Rows that are history: written once, never changed or deleted through the ORM."""

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, using=None, **kwargs):
        """A new row is written out (``core.rows.create``: the audit trail writes one with
        most changes); signals are sent as ``Model.save`` sends them."""
        if not self._state.adding:
            raise PermissionError(f"{type(self).__name__} rows are append-only")
        from .rows import create

        create(self, using=using)

    def delete(self, *args, **kwargs):
        raise PermissionError(f"{type(self).__name__} rows are append-only")


class PersonalDataAccess(AppendOnlyModel):
    """One row per reveal of personal data: who saw which fields of whom, when and why."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(_("at"), auto_now_add=True, db_index=True)
    model = models.CharField(_("model"), max_length=64)
    object_id = models.CharField(_("object id"), max_length=64)
    area_code = models.CharField(_("area code"), max_length=40, db_index=True)
    fields = models.CharField(_("fields"), max_length=200)
    reason = models.TextField(_("reason"))
    channel = models.CharField(_("channel"), max_length=16, default="web")
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)

    class Meta:
        verbose_name = _("personal data access")
        verbose_name_plural = _("personal data accesses")
        ordering = ["-at"]
        indexes = [models.Index(fields=["model", "object_id"])]

    def __str__(self) -> str:
        return (
            f"{self.user_id} {self.model}#{self.object_id} {self.fields} @ {self.at:%Y-%m-%d %H:%M}"
        )
